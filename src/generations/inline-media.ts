/**
 * Inline media (base64 data URIs in `imageUrl`, `imageUrls`, `videoUrl`…) is needed whole only for
 * the one create call that sends it upstream. Stored and served whole, a 1 MiB image would ride along
 * on every read, list page, subscription event and Redis message of its generation (thirty of them
 * made each list page 31 MB). So what is stored, and shown in `settings`, is a short summary instead:
 *
 *   `[data URI image/png, 1048576 bytes, sha256 <64 hex digits>]`
 *
 * the media type, the decoded size and the SHA-256 of the decoded bytes, enough for a client to tell
 * which file it sent. Idempotency is unaffected: inputs are compared by a hash of the full input.
 */
import { createHash } from 'node:crypto';
import type { GenerationInput } from './types';

const DATA_URI = /^data:([^;,]+)(?:;[^,]*)?;base64,/i;

/** The stored form of an input: every data URI in a media field replaced by its summary. */
export function summarizeInlineMedia(input: GenerationInput): GenerationInput {
  let changed = false;
  const out: Record<string, unknown> = { ...input };
  for (const [field, value] of Object.entries(input)) {
    if (!/Urls?$/.test(field)) continue;
    if (typeof value === 'string' && DATA_URI.test(value)) {
      out[field] = summarizeDataUri(value);
      changed = true;
    } else if (Array.isArray(value) && value.some((v) => typeof v === 'string' && DATA_URI.test(v))) {
      out[field] = value.map((v) => (typeof v === 'string' && DATA_URI.test(v) ? summarizeDataUri(v) : v));
      changed = true;
    }
  }
  return changed ? (out as unknown as GenerationInput) : input;
}

/** `[data URI <type>, <bytes> bytes, sha256 <hex>]` for a base64 data URI. */
export function summarizeDataUri(uri: string): string {
  const match = DATA_URI.exec(uri);
  const type = match ? match[1]!.toLowerCase() : 'application/octet-stream';
  const bytes = Buffer.from(uri.slice(match ? match[0].length : 0), 'base64');
  const digest = createHash('sha256').update(bytes).digest('hex');
  return `[data URI ${type}, ${bytes.length} bytes, sha256 ${digest}]`;
}
