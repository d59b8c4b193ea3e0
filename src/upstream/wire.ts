/**
 * The AI/ML API's wire format: the only module that knows its field names.
 *
 * Requests go out in the model's own names and spelling (the generated wire map, derived from the
 * vendor's specs with the catalogue);
 * responses come back parsed tolerantly, because the contract documents several shapes for
 * the same thing (`video` as object or array, `error` as any JSON, `tokens_used` vs `credits_used`).
 */
import type { GenerationInput, GenerationVideo, Usage } from '../model/generation';
import type { WireEntry } from './catalogue-types';
import { findModel } from './models';
import { WIRE_MAP } from './wire-map.generated';
import { createRedactor, type Redactor } from '../secret-redaction';
import type { UpstreamJob } from './types';

/** The contract's fixed ratio (§9): every documented credits/USD pair agrees on it. */
export const CREDITS_PER_USD = 2_000_000;

/** Longest upstream message we pass on; the upstream's zod-style detail lines can run long. */
export const MAX_MESSAGE_CHARS = 500;

/** How this model names and spells a gateway input (`options.<name>` for an option), or undefined. */
export function wireEntry(modelId: string, inputName: string): WireEntry | undefined {
  const entries = Object.prototype.hasOwnProperty.call(WIRE_MAP, modelId) ? WIRE_MAP[modelId]! : undefined;
  return entries && Object.prototype.hasOwnProperty.call(entries, inputName) ? entries[inputName] : undefined;
}

/**
 * The POST body for a validated input: `model` and only the fields the input has, under the
 * model's wire names and in its wire spelling (`720P`, `"5"`, `google`); options are spread in.
 *
 * Throws on an unknown model or a field the model does not take: the validator should have refused
 * those, and sending them anyway would have the upstream silently drop what the client asked for.
 */
export function toWireBody(input: GenerationInput): Record<string, unknown> {
  const model = findModel(input.model);
  if (!model) throw new Error(`toWireBody: unknown model ${JSON.stringify(input.model)}`);
  const body: Record<string, unknown> = { model: model.id };
  const put = (name: string, value: unknown) => {
    if (value === undefined) return;
    const entry = wireEntry(model.id, name);
    if (!entry) throw new Error(`toWireBody: model ${model.id} does not accept ${name}`);
    body[entry.wire] = wireValue(entry, value);
  };
  for (const [field, value] of Object.entries(input)) {
    if (field === 'model' || field === 'options') continue;
    put(field, value);
  }
  for (const [option, value] of Object.entries(input.options ?? {})) put(`options.${option}`, value);
  return body;
}

function wireValue(entry: WireEntry, value: unknown): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (typeof value === 'string' && entry.values && Object.prototype.hasOwnProperty.call(entry.values, value)) {
    return entry.values[value];
  }
  if (entry.as === 'string' && typeof value === 'number') return String(value);
  return value;
}

/** A 2xx body that is not a job: missing `id`/`status`, or not an object at all. */
export class WireParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireParseError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** Numbers may arrive as numeric strings from pass-through providers. */
function finiteNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * A create or poll response body as an `UpstreamJob`. Unknown fields are ignored.
 *
 * `fallbackId` is used when the body has no id (a poll already knows which job it asked about).
 * `apiKey`, when given, is scrubbed from the upstream's `error` payload: that payload is stored and
 * shown to the owner, and some providers echo request headers.
 * Throws `WireParseError` when there is no usable id or status.
 */
export function parseJob(json: unknown, options: { fallbackId?: string; apiKey?: string } = {}): UpstreamJob {
  if (!isRecord(json)) throw new WireParseError('upstream response is not a JSON object');
  const rawId = json['id'] ?? json['generation_id'];
  const id = typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : (nonEmptyString(rawId) ?? options.fallbackId);
  if (!id) throw new WireParseError('upstream response has no id');
  const status = nonEmptyString(json['status']);
  if (!status) throw new WireParseError('upstream response has no status');
  return {
    upstreamId: id,
    status: status.trim().toLowerCase(),
    video: parseVideo(json['video']),
    error: json['error'] === undefined ? null : redactJson(json['error'], options.apiKey ?? ''),
    usage: parseUsage(json['meta']),
  };
}

function parseVideo(raw: unknown): GenerationVideo | null {
  const video: unknown = Array.isArray(raw) ? raw[0] : raw;
  if (!isRecord(video)) return null;
  const url = nonEmptyString(video['url']);
  if (!url) return null;
  const size = finiteNumber(video['file_size']);
  return {
    url,
    contentType: nonEmptyString(video['content_type']),
    fileName: nonEmptyString(video['file_name']),
    sizeBytes: size !== null && size >= 0 ? size : null,
  };
}

function parseUsage(meta: unknown): Usage | null {
  if (!isRecord(meta) || !isRecord(meta['usage'])) return null;
  const usage = meta['usage'];
  const credits = finiteNumber(usage['credits_used']) ?? finiteNumber(usage['tokens_used']);
  let usd = finiteNumber(usage['usd_spent']);
  if (usd === null && credits !== null) usd = credits / CREDITS_PER_USD;
  if (credits === null && usd === null) return null;
  return { credits, usd };
}

const HTML_PATTERN = /<\s*(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|title[\s>])/i;
const HTML_MESSAGE = 'upstream returned an HTML error page';

/** The client holds one key for its life: its redactor is built once. */
let cachedRedactor: { key: string; redact: Redactor } | null = null;
function redactorFor(apiKey: string): Redactor {
  if (cachedRedactor?.key !== apiKey) cachedRedactor = { key: apiKey, redact: createRedactor([apiKey]) };
  return cachedRedactor.redact;
}

/** `redactSecrets` applied to every string (keys included) inside a JSON value. */
export function redactJson(value: unknown, apiKey: string): unknown {
  if (typeof value === 'string') return redactSecrets(value, apiKey);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, apiKey));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactSecrets(k, apiKey), redactJson(v, apiKey)]));
  }
  return value;
}

/** Removes the key and any bearer token, wherever they appear. */
export function redactSecrets(text: string, apiKey: string): string {
  const out = apiKey ? redactorFor(apiKey)(text) : text;
  return out.replace(/\bBearer\s+(?!\[redacted\])[^\s"',;]+/gi, 'Bearer [redacted]');
}

function extractMessage(body: unknown): string {
  if (body === null || body === undefined) return '';
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return extractMessage(Buffer.from(body).toString('utf8'));
  if (typeof body === 'string') {
    const trimmed = body.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
      try {
        return extractMessage(JSON.parse(trimmed));
      } catch {
        // Not JSON after all; the raw text is the message.
      }
    }
    return trimmed;
  }
  if (typeof body === 'number' || typeof body === 'boolean') return String(body);
  if (Array.isArray(body)) return body.map(extractMessage).filter(Boolean).join('; ');
  if (isRecord(body)) {
    const message = body['message'];
    if (typeof message === 'string') return message;
    // NestJS validation pipes send an array of messages.
    if (Array.isArray(message)) return message.map(extractMessage).filter(Boolean).join('; ');
    if (isRecord(message)) return extractMessage(message);
    const error = body['error'];
    if (typeof error === 'string') return error;
    if (isRecord(error)) return extractMessage(error);
    const detail = body['detail'];
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail) && isRecord(detail[0]) && typeof detail[0]['msg'] === 'string') return detail[0]['msg'];
    try {
      return JSON.stringify(body);
    } catch {
      return '';
    }
  }
  return '';
}

/**
 * The upstream's error text, safe to show a client: the envelope's `message` (or the raw text),
 * with the API key and bearer tokens redacted, whitespace collapsed, at most 500 characters.
 * Returns '' when there is nothing to say.
 */
export function cleanUpstreamMessage(body: unknown, apiKey: string): string {
  const raw = extractMessage(body);
  if (HTML_PATTERN.test(raw)) return HTML_MESSAGE;
  // Redact before collapsing or truncating so a key can never be cut into a surviving fragment.
  let text = redactSecrets(raw, apiKey)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this strips
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  text = redactSecrets(text, apiKey);
  if (text.length > MAX_MESSAGE_CHARS) text = `${text.slice(0, MAX_MESSAGE_CHARS - 1).trimEnd()}…`;
  return text;
}
