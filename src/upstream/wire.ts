/**
 * The AI/ML API's wire format: the only module that knows its field names.
 *
 * Requests go out in the model's own spelling (taken from the catalogue in `models.ts`);
 * responses come back parsed tolerantly, because the contract documents several shapes for
 * the same thing (`video` as object or array, `error` as any JSON, `tokens_used` vs `credits_used`).
 */
import type { GenerationInput, GenerationVideo, Usage } from '../generations/types';
import { findModel, type ModelSpec } from './models';
import { createRedactor, type Redactor } from '../secret-redaction';
import type { UpstreamJob } from './types';

/** The contract's fixed ratio (§9): every documented credits/USD pair agrees on it. */
export const CREDITS_PER_USD = 2_000_000;

/** Longest upstream message we pass on; the upstream's zod-style detail lines can run long. */
export const MAX_MESSAGE_CHARS = 500;

/**
 * Input field → candidate wire names, in preference order. A model accepts the input field
 * when its catalogue has one of the candidates.
 */
const INPUT_TO_WIRE: Readonly<Record<string, readonly string[]>> = {
  model: ['model'],
  prompt: ['prompt'],
  durationSeconds: ['duration'],
  aspectRatio: ['aspect_ratio'],
  resolution: ['resolution'],
  negativePrompt: ['negative_prompt'],
  seed: ['seed'],
  enhancePrompt: ['enhance_prompt'],
  generateAudio: ['generate_audio'],
  autoFix: ['auto_fix'],
  personGeneration: ['person_generation'],
  provider: ['provider'],
  imageUrl: ['image_url'],
  // Veo 2 image-to-video names its last frame `tail_image_url`; everything later says `last_image_url`.
  lastImageUrl: ['last_image_url', 'tail_image_url'],
  imageUrls: ['image_urls'],
  videoUrl: ['video_url'],
};

/** Every `GenerationInput` field this module knows how to send. */
export const INPUT_FIELDS: readonly string[] = Object.keys(INPUT_TO_WIRE);

/**
 * The wire field a model uses for an input field, or undefined when the model does not accept it
 * (or the input field is unknown). `model` and `prompt` are accepted by every model.
 */
export function wireFieldFor(model: ModelSpec, inputField: string): string | undefined {
  const candidates = Object.prototype.hasOwnProperty.call(INPUT_TO_WIRE, inputField)
    ? INPUT_TO_WIRE[inputField]
    : undefined;
  if (!candidates) return undefined;
  if (inputField === 'model' || inputField === 'prompt') return candidates[0];
  return candidates.find((wire) => Object.prototype.hasOwnProperty.call(model.fields, wire));
}

/**
 * A canonical resolution (`720p`) in the model's wire casing (`720P` for Veo 3.0 and Lite-001),
 * or undefined when the model has no such resolution.
 */
export function wireResolution(model: ModelSpec, resolution: string): string | undefined {
  const field = model.fields['resolution'];
  if (!field) return undefined;
  if (!field.enum) return resolution;
  const wanted = resolution.toLowerCase();
  const match = field.enum.find((v) => typeof v === 'string' && v.toLowerCase() === wanted);
  return typeof match === 'string' ? match : undefined;
}

/**
 * The POST body for a validated input: `model`, `prompt` and only the fields the input has,
 * under the model's wire names.
 *
 * Throws on an unknown model, a field the model does not take, a resolution outside its enum or
 * a non-integer duration: the validator should have refused those, and sending them anyway would
 * have the upstream silently drop or reject what the client asked for.
 */
export function toWireBody(input: GenerationInput): Record<string, unknown> {
  const model = findModel(input.model);
  if (!model) throw new Error(`toWireBody: unknown model ${JSON.stringify(input.model)}`);
  const body: Record<string, unknown> = { model: model.id, prompt: input.prompt };
  for (const [field, value] of Object.entries(input)) {
    if (field === 'model' || field === 'prompt' || value === undefined) continue;
    const wire = wireFieldFor(model, field);
    if (!wire) throw new Error(`toWireBody: model ${model.id} does not accept ${field}`);
    body[wire] = wireValue(model, field, value);
  }
  return body;
}

function wireValue(model: ModelSpec, field: string, value: unknown): unknown {
  if (field === 'durationSeconds') {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new Error(`toWireBody: durationSeconds must be an integer, got ${String(value)}`);
    }
    return value;
  }
  if (field === 'resolution') {
    const wire = wireResolution(model, String(value));
    if (wire === undefined) throw new Error(`toWireBody: model ${model.id} has no resolution ${String(value)}`);
    return wire;
  }
  if (field === 'imageUrls' && Array.isArray(value)) return [...value];
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
 * Throws `WireParseError` when there is no usable id or status.
 */
/**
 * Reads a create or poll answer. `apiKey`, when given, is scrubbed from the upstream's `error`
 * payload: that payload is stored and shown to the owner, and some providers echo request headers.
 */
export function parseJob(json: unknown, options: { fallbackId?: string; apiKey?: string } = {}): UpstreamJob {
  if (!isRecord(json)) throw new WireParseError('upstream response is not a JSON object');
  const rawId = json['id'] ?? json['generation_id'];
  const id =
    typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : nonEmptyString(rawId) ?? options.fallbackId;
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
  const video = Array.isArray(raw) ? raw[0] : raw;
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

/** Removes the key and any bearer token, wherever they appear. */
/** `redactSecrets` applied to every string (keys included) inside a JSON value. */
export function redactJson(value: unknown, apiKey: string): unknown {
  if (typeof value === 'string') return redactSecrets(value, apiKey);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, apiKey));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactSecrets(k, apiKey), redactJson(v, apiKey)]));
  }
  return value;
}

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
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  text = redactSecrets(text, apiKey);
  if (text.length > MAX_MESSAGE_CHARS) text = `${text.slice(0, MAX_MESSAGE_CHARS - 1).trimEnd()}…`;
  return text;
}
