/**
 * Create-body validation against the vendor's own JSON Schema for the model the body names
 * (`vendor-specs.ts`), with ajv. Each model's schema is compiled on its first create and cached.
 *
 * Detail lines imitate the zod messages the upstream appends after "Body validation error!"
 * (contract §7), e.g. `Invalid enum value. Expected 4 | 6 | 8, received 5 at "duration"`.
 *
 * Decisions where the vendor is silent:
 * - Unknown body keys are accepted and ignored (no schema sets `additionalProperties`, and a docs
 *   sample that sent a key missing from its schema got a result, contract §4).
 * - A numeric string is coerced where the schema declares `duration` a number (the docs' own
 *   samples send `"duration": "8"` and succeed); nothing else is coerced.
 * - `format: uri` means what the descriptions say: a public http(s) URL or a base64 data URI. A
 *   field whose name says `image`, `video` or `audio` takes data URIs of that media type only.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { CREATE_PATH, modelsServedAt, vendorModel, type JsonSchema, type VendorModel } from './vendor-specs';

export type ValidationResult =
  | {
      ok: true;
      model: VendorModel;
      /** Seconds of video: the given duration, else the schema's default, else its only or smallest value. */
      duration: number;
      /** The requested (or default) `resolution` as the wire spells it, when the model has one. */
      resolution?: string;
      /** The schema's default `resolution`, when it states one. */
      defaultResolution?: string;
    }
  | { ok: false; issues: string[] };

/** Seconds of video assumed for a model whose schema has no duration field (most are 5 s clips). */
export const DEFAULT_DURATION_SECONDS = 5;

/**
 * Rules the vendor states only in prose (a field description), so no schema carries them:
 * when `ifPresent` is given, `field` may only take `allowed`.
 */
const DESCRIBED_RULES: Readonly<Record<string, readonly { ifPresent: string; field: string; allowed: readonly number[]; reason: string }[]>> = {
  'google/veo-3-1-lite-generate-preview': [
    { ifPresent: 'last_image_url', field: 'duration', allowed: [8], reason: 'with last_image_url the duration can only be 8s' },
  ],
};

type Media = 'image' | 'video' | 'audio';

const ajv = new Ajv({
  allErrors: true,
  // `data` on every error, to word "received …" like zod.
  verbose: true,
  // Strict mode stays on to catch a malformed schema; the vendor's OpenAPI annotations are known words.
  strict: true,
  logger: false,
});
addFormats(ajv);
ajv.addVocabulary(['example']);
ajv.addFormat('media-uri', (value: string) => mediaUri(value, null));
for (const media of ['image', 'video', 'audio'] as const) ajv.addFormat(`${media}-uri`, (value: string) => mediaUri(value, media));

const compiled = new Map<string, ValidateFunction>();

export function validateCreateBody(body: unknown, path = CREATE_PATH): ValidationResult {
  if (!isPlainObject(body)) return { ok: false, issues: [`Expected object, received ${typeName(body)}`] };

  const model = checkModel(body.model, path);
  if (typeof model === 'string') return { ok: false, issues: [model] };

  const properties = (model.request.properties ?? {}) as Record<string, JsonSchema>;
  const input = coerceDuration(body, properties.duration);
  const validate = validatorFor(model);
  const issues = validate(input) ? [] : describe(validate.errors ?? []);
  for (const rule of DESCRIBED_RULES[model.id] ?? []) {
    if (input[rule.ifPresent] === undefined) continue;
    const value = input[rule.field] ?? toNumber(properties[rule.field]?.default);
    if (value !== undefined && !rule.allowed.includes(value as number)) {
      issues.push(`${at(enumMessage(rule.allowed, value), rule.field)} (${rule.reason})`);
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const defaultResolution = properties.resolution?.default;
  const resolution = input.resolution ?? defaultResolution;
  return {
    ok: true,
    model,
    duration: durationOf(input.duration, properties.duration),
    ...(typeof resolution === 'string' ? { resolution } : {}),
    ...(typeof defaultResolution === 'string' ? { defaultResolution } : {}),
  };
}

function checkModel(value: unknown, path: string): VendorModel | string {
  if (value === undefined) return at('Required', 'model');
  if (typeof value !== 'string') return at(`Expected string, received ${typeName(value)}`, 'model');
  const allowed = modelsServedAt(path);
  const model = allowed.includes(value) ? vendorModel(value) : undefined;
  return model ?? at(enumMessage(allowed, value), 'model');
}

function validatorFor(model: VendorModel): ValidateFunction {
  let validate = compiled.get(model.id);
  if (!validate) {
    validate = ajv.compile(normalise(model.request, ''));
    compiled.set(model.id, validate);
  }
  return validate;
}

/**
 * A copy of a vendor schema that ajv accepts and that checks media fields. The vendor writes
 * OpenAPI 3.0, not plain JSON Schema: `required: true` on a property (video-01-live2d) and a bare
 * `{nullable: true}` branch (Luma keyframes) are rewritten to their JSON Schema meaning. String
 * `default`s on integer fields need nothing: ajv only reads defaults when asked to apply them.
 */
function normalise(schema: JsonSchema, name: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'properties' && isPlainObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([prop, sub]) => [prop, normalise(sub as JsonSchema, prop)]));
    } else if ((keyword === 'items' || keyword === 'not') && isPlainObject(value)) {
      out[keyword] = normalise(value, name);
    } else if ((keyword === 'anyOf' || keyword === 'oneOf' || keyword === 'allOf') && Array.isArray(value)) {
      out[keyword] = value.map((sub: JsonSchema) => normalise(sub, name));
    } else {
      out[keyword] = value;
    }
  }
  const properties = out.properties as Record<string, JsonSchema> | undefined;
  for (const [prop, sub] of Object.entries(properties ?? {})) {
    if (typeof sub.required !== 'boolean') continue;
    if (sub.required) out.required = [...new Set([...((out.required as string[] | undefined) ?? []), prop])];
    delete sub.required;
  }
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    out.type = 'null';
  }
  if (out.format === 'uri') {
    const media = mediaOf(name);
    out.format = media ? `${media}-uri` : 'media-uri';
  }
  return out;
}

function mediaOf(fieldName: string): Media | null {
  const name = fieldName.toLowerCase();
  if (name.includes('image')) return 'image';
  if (name.includes('video')) return 'video';
  if (name.includes('audio')) return 'audio';
  return null;
}

function mediaUri(value: string, media: Media | null): boolean {
  const type = media ?? '[a-z]+';
  if (new RegExp(`^data:${type}/[a-z0-9.+-]+(;[a-z0-9-]+=[^;,]*)*;base64,[A-Za-z0-9+/=\\s]+$`, 'i').test(value)) return true;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function coerceDuration(body: Record<string, unknown>, schema: JsonSchema | undefined): Record<string, unknown> {
  const raw = body.duration;
  const numeric = schema?.type === 'integer' || schema?.type === 'number';
  if (!numeric || typeof raw !== 'string' || !/^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return body;
  return { ...body, duration: Number(raw) };
}

function durationOf(given: unknown, schema: JsonSchema | undefined): number {
  const candidates = [given, schema?.default, ...(Array.isArray(schema?.enum) && schema.enum.length === 1 ? (schema.enum as unknown[]) : [])];
  for (const candidate of candidates) {
    const n = toNumber(candidate);
    if (n !== undefined && n > 0) return n;
  }
  if (Array.isArray(schema?.enum)) {
    const values = schema.enum.map(toNumber).filter((n): n is number => n !== undefined && n > 0);
    if (values.length > 0) return Math.min(...values);
  }
  const min = toNumber(schema?.minimum);
  return min !== undefined && min > 0 ? min : DEFAULT_DURATION_SECONDS;
}

function toNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** One zod-style line per offending path, in ajv's order; a union reports itself, not its branches. */
function describe(errors: readonly ErrorObject[]): string[] {
  const lines = new Map<string, string>();
  for (const error of errors) {
    if (/\/(anyOf|oneOf)\/\d+\//.test(error.schemaPath)) continue;
    const path =
      error.keyword === 'required'
        ? [...pointer(error.instancePath), (error.params as { missingProperty: string }).missingProperty]
        : pointer(error.instancePath);
    const where = render(path);
    if (!lines.has(where)) lines.set(where, where === '' ? message(error) : at(message(error), where));
  }
  return [...lines.values()];
}

function message(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'Required';
    case 'type': {
      const expected = String(p.type);
      if (expected === 'integer' && typeof error.data === 'number') return 'Expected integer, received float';
      return `Expected ${expected.replace(/,/g, ' | ')}, received ${typeName(error.data)}`;
    }
    case 'enum':
      return enumMessage(p.allowedValues as unknown[], error.data);
    case 'const':
      return `Invalid literal value, expected ${literal(p.allowedValue)}`;
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const bound = String(p.comparison).startsWith('>') ? 'greater than' : 'less than';
      const orEqual = String(p.comparison).endsWith('=') ? ' or equal to' : '';
      return `Number must be ${bound}${orEqual} ${String(p.limit)}`;
    }
    case 'minLength':
      return `String must contain at least ${String(p.limit)} character(s)`;
    case 'maxLength':
      return `String must contain at most ${String(p.limit)} character(s)`;
    case 'minItems':
      return `Array must contain at least ${String(p.limit)} element(s)`;
    case 'maxItems':
      return `Array must contain at most ${String(p.limit)} element(s)`;
    case 'format': {
      const format = String(p.format);
      if (format === 'media-uri') return 'Invalid url. Expected an http(s) URL or a base64 data URI';
      if (format.endsWith('-uri')) return `Invalid url. Expected an http(s) URL or a base64 data:${format.slice(0, -4)}/... URI`;
      return `Invalid ${format}`;
    }
    case 'anyOf':
    case 'oneOf':
      return 'Invalid input';
    default:
      return error.message ?? 'Invalid input';
  }
}

function pointer(instancePath: string): string[] {
  return instancePath === ''
    ? []
    : instancePath
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `image_urls[1]`, `keyframes.frame0.url`. */
function render(path: readonly string[]): string {
  return path.reduce((out, segment) => (/^\d+$/.test(segment) ? `${out}[${segment}]` : out === '' ? segment : `${out}.${segment}`), '');
}

/** Received strings longer than this are cut in messages: a 50 MB data URI in an enum field is not echoed back. */
const MAX_ECHOED_CHARS = 100;

function enumMessage(allowed: readonly unknown[], received: unknown): string {
  const shown = typeof received === 'string' && received.length > MAX_ECHOED_CHARS ? `${received.slice(0, MAX_ECHOED_CHARS)}…` : received;
  return `Invalid enum value. Expected ${allowed.map(literal).join(' | ')}, received ${literal(shown)}`;
}

/** zod quotes string literals with single quotes and prints numbers bare. */
function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function at(message: string, path: string): string {
  return `${message} at "${path}"`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'nan';
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
