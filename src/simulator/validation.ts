/**
 * Create-body validation, driven entirely by the model catalogue (`src/upstream/models.ts`).
 *
 * Detail lines imitate the zod messages the upstream appends after "Body validation error!"
 * (contract §7), e.g. `Invalid enum value. Expected 4 | 6 | 8, received 5 at "duration"`.
 * Like the upstream (contract §4, inferred), unknown keys are dropped and numeric-string
 * durations are coerced.
 */
import { MODELS, findModel, type ModelSpec } from '../upstream/models';
import { wireEntry } from '../upstream/wire';

/** One wire field of a model, as the simulator checks it (rebuilt from the gateway's catalogue and wire map). */
interface WireField {
  type: 'string' | 'integer' | 'boolean' | 'string[]' | 'other';
  enum?: readonly (string | number)[];
  default?: unknown;
  media?: 'image' | 'video' | 'audio';
  caseInsensitive?: boolean;
  maxItems?: number;
}

interface WireView {
  required: string[];
  fields: Record<string, WireField>;
  rules: { ifPresent: string; field: string; allowed: readonly (string | number)[]; reason: string }[];
}

const views = new Map<string, WireView>();

function wireView(model: ModelSpec): WireView {
  let view = views.get(model.id);
  if (view) return view;
  const wireName = (name: string) => wireEntry(model.id, name)?.wire ?? wireEntry(model.id, `options.${name}`)?.wire ?? name;
  const fields: Record<string, WireField> = {};
  const required: string[] = [];
  for (const input of model.inputs) {
    if (input.name === 'prompt') continue;
    const entry = wireEntry(model.id, input.shared ? input.name : `options.${input.name}`)!;
    const s = input.schema;
    const items = s['items'] as Record<string, unknown> | undefined;
    const type: WireField['type'] =
      s['type'] === 'boolean' ? 'boolean'
      : s['type'] === 'integer' && entry.as === undefined ? 'integer'
      : s['type'] === 'string' ? 'string'
      : s['type'] === 'array' && items?.['type'] === 'string' ? 'string[]'
      : 'other';
    const toWire = (v: unknown) => (typeof v === 'string' && entry.values?.[v] !== undefined ? entry.values[v] : v);
    const field: WireField = { type };
    if (Array.isArray(s['enum']) && type !== 'other') field.enum = (s['enum'] as (string | number)[]).map((v) => toWire(v) as string | number);
    if (s['default'] !== undefined) field.default = toWire(s['default']);
    if (input.media) field.media = input.media;
    if (input.name === 'provider') {
      field.caseInsensitive = true;
      field.enum = [...(field.enum ?? []), 'native'];
    }
    if (typeof s['maxItems'] === 'number') field.maxItems = s['maxItems'];
    fields[entry.wire] = field;
    if (input.required) required.push(entry.wire);
  }
  const rules = model.rules.map((r) => ({ ...r, ifPresent: wireName(r.ifPresent), field: wireName(r.field) }));
  view = { required, fields, rules };
  views.set(model.id, view);
  return view;
}

export type ValidationResult =
  | {
      ok: true;
      model: ModelSpec;
      /** The accepted body: `model`, `prompt` and the catalogue's fields only, coerced and canonicalised. */
      params: Record<string, unknown>;
      /** Seconds of video: the given duration, else the model's default, else 8. */
      duration: number;
    }
  | { ok: false; issues: string[] };

export interface ValidateOptions {
  /** The request came in on `/v2/generate/video/google/generation`, which only knows the legacy models. */
  legacyPath: boolean;
}

/** Duration used for pricing when a model declares no default (the reference model: 8 only). */
const FALLBACK_DURATION = 8;

export function validateCreateBody(body: unknown, options: ValidateOptions): ValidationResult {
  if (!isPlainObject(body)) return { ok: false, issues: [`Expected object, received ${typeName(body)}`] };

  const model = checkModel(body.model, options.legacyPath);
  if (typeof model === 'string') return { ok: false, issues: [model] };

  const issues: string[] = [];
  const params: Record<string, unknown> = { model: model.id };

  const view = wireView(model);
  const takesPrompt = model.inputs.find((i) => i.name === 'prompt');
  if (body.prompt === undefined) {
    if (takesPrompt?.required) issues.push(at('Required', 'prompt'));
  } else if (typeof body.prompt !== 'string') issues.push(at(`Expected string, received ${typeName(body.prompt)}`, 'prompt'));
  else params.prompt = body.prompt;

  for (const name of view.required) {
    if (body[name] === undefined) issues.push(at('Required', name));
  }
  for (const [name, field] of Object.entries(view.fields)) {
    if (body[name] === undefined) continue;
    const checked = checkField(name, field, body[name]);
    if ('issue' in checked) issues.push(...checked.issue);
    else params[name] = checked.value;
  }
  for (const rule of view.rules) {
    if (params[rule.ifPresent] === undefined) continue;
    const value = params[rule.field] ?? view.fields[rule.field]?.default;
    if (value !== undefined && !rule.allowed.includes(value as string | number)) {
      issues.push(`${at(enumMessage(rule.allowed, value), rule.field)} (${rule.reason})`);
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const fallback = Number(view.fields['duration']?.default ?? FALLBACK_DURATION);
  return { ok: true, model, params, duration: typeof params.duration === 'number' ? params.duration : fallback };
}

function checkModel(value: unknown, legacyPath: boolean): ModelSpec | string {
  // Decision: the contract never documents the Veo 3.1 / Lite / Extend models on the legacy path.
  // The legacy controller's DTO would only enumerate its own models, so anything else is a 400
  // listing the models that path knows; a client that uses the legacy path for a new model finds
  // out here rather than in production.
  const allowed = MODELS.filter((m) => !legacyPath || m.legacyPath).map((m) => m.id);
  if (value === undefined) return at('Required', 'model');
  if (typeof value !== 'string') return at(`Expected string, received ${typeName(value)}`, 'model');
  const spec = findModel(value);
  if (!spec || !allowed.includes(spec.id)) return at(enumMessage(allowed, value), 'model');
  return spec;
}

type Checked = { value: unknown } | { issue: string[] };

function checkField(name: string, field: WireField, raw: unknown): Checked {
  switch (field.type) {
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : fail(`Expected boolean, received ${typeName(raw)}`, name);
    case 'integer':
      return checkInteger(name, field, raw);
    case 'string':
      return checkString(name, field, raw);
    case 'string[]':
      return checkStringArray(name, field, raw);
    case 'other':
      return { value: raw };
  }
}

function checkInteger(name: string, field: WireField, raw: unknown): Checked {
  let value = raw;
  // The docs' own samples send `"duration": "8"` and get results, so the upstream coerces it.
  if (name === 'duration' && typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) value = Number(raw);
  if (typeof value !== 'number' || Number.isNaN(value)) return fail(`Expected number, received ${typeName(value)}`, name);
  if (!Number.isInteger(value)) return fail('Expected integer, received float', name);
  if (field.enum && !field.enum.includes(value)) return fail(enumMessage(field.enum, value), name);
  return { value };
}

function checkString(name: string, field: WireField, raw: unknown): Checked {
  if (typeof raw !== 'string') return fail(`Expected string, received ${typeName(raw)}`, name);
  if (field.media) {
    const problem = mediaProblem(raw, field.media);
    return problem ? fail(problem, name) : { value: raw };
  }
  if (!field.enum) return { value: raw };
  const match = field.caseInsensitive
    ? field.enum.find((e) => String(e).toLowerCase() === raw.toLowerCase())
    : field.enum.find((e) => e === raw);
  return match === undefined ? fail(enumMessage(field.enum, raw), name) : { value: match };
}

function checkStringArray(name: string, field: WireField, raw: unknown): Checked {
  if (!Array.isArray(raw)) return fail(`Expected array, received ${typeName(raw)}`, name);
  if (raw.length === 0) return fail('Array must contain at least 1 element(s)', name);
  if (field.maxItems !== undefined && raw.length > field.maxItems) {
    return fail(`Array must contain at most ${field.maxItems} element(s)`, name);
  }
  const issues: string[] = [];
  raw.forEach((item, i) => {
    const path = `${name}[${i}]`;
    if (typeof item !== 'string') issues.push(at(`Expected string, received ${typeName(item)}`, path));
    else if (field.media) {
      const problem = mediaProblem(item, field.media);
      if (problem) issues.push(at(problem, path));
    }
  });
  return issues.length > 0 ? { issue: issues } : { value: [...raw] };
}

function mediaProblem(value: string, media: 'image' | 'video' | 'audio'): string | null {
  const dataUri = new RegExp(`^data:${media}/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\\s]+$`, 'i');
  if (dataUri.test(value)) return null;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') return null;
  } catch {
    // Falls through to the message below.
  }
  return `Invalid url. Expected an http(s) URL or a base64 data:${media}/... URI`;
}

function enumMessage(allowed: readonly unknown[], received: unknown): string {
  return `Invalid enum value. Expected ${allowed.map(literal).join(' | ')}, received ${literal(received)}`;
}

/** zod quotes string literals with single quotes and prints numbers bare. */
function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function at(message: string, path: string): string {
  return `${message} at "${path}"`;
}

function fail(message: string, path: string): { issue: string[] } {
  return { issue: [at(message, path)] };
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
