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
import type { GenerationInput } from '../model/generation';

const DATA_URI = /^data:([^;,]+)(?:;[^,]*)?;base64,/i;

/**
 * The stored form of an input: every data URI replaced by its summary, wherever it is (model options
 * may nest media in objects and lists, under the vendor's own key names). Unchanged inputs are
 * returned as they are.
 */
export function summarizeInlineMedia(input: GenerationInput): GenerationInput {
  return summarize(input) as GenerationInput;
}

function summarize(value: unknown): unknown {
  if (typeof value === 'string') return DATA_URI.test(value) ? summarizeDataUri(value) : value;
  if (Array.isArray(value)) {
    const items = value.map(summarize);
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = summarize(item);
      changed ||= out[key] !== item;
    }
    return changed ? out : value;
  }
  return value;
}

/** `[data URI <type>, <bytes> bytes, sha256 <hex>]` for a base64 data URI. */
export function summarizeDataUri(uri: string): string {
  const match = DATA_URI.exec(uri);
  const type = match ? match[1]!.toLowerCase() : 'application/octet-stream';
  const bytes = Buffer.from(uri.slice(match ? match[0].length : 0), 'base64');
  const digest = createHash('sha256').update(bytes).digest('hex');
  return `[data URI ${type}, ${bytes.length} bytes, sha256 ${digest}]`;
}
