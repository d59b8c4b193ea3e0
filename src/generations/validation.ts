/**
 * One generic validator for every model: it reads the catalogue (in the gateway's terms), so no
 * model has code of its own. The catalogue's schemas, derived from the vendor's own, are checked
 * by ajv; the gateway's own rules (prompt length, media URLs, cross-field rules) follow. It runs
 * before anything is stored or sent, so bad input never costs an upstream call.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { badInput } from '../errors';
import { findModel, MODELS, type CatalogueInput, type JsonSchema, type MediaKind, type ModelSpec } from '../upstream/models';
import { checkStorableStrings, checkStorableText } from './storable-values';
import type { GenerationInput } from '../model/generation';

/** Longest prompt (and negative prompt) accepted, in Unicode code points. */
export const PROMPT_MAX_LENGTH = 4_000;
/** Longest http(s) media URL accepted, in characters. */
export const URL_MAX_LENGTH = 2_048;
/** Longest idempotency key accepted, in characters (as Stripe and the IETF draft suggest). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** The largest seed accepted where the model states no range (a 32-bit signed integer, as GraphQL's Int). */
const SEED_MAX = 2_147_483_647;

/** The typed fields of the create input, besides `model`; everything else goes in `options`. */
export const SHARED_INPUT_FIELDS = [
  'prompt',
  'negativePrompt',
  'durationSeconds',
  'aspectRatio',
  'resolution',
  'seed',
  'generateAudio',
  'enhancePrompt',
  'autoFix',
  'personGeneration',
  'provider',
  'imageUrl',
  'lastImageUrl',
  'imageUrls',
  'videoUrl',
  'audioUrl',
  'watermark',
  'cfgScale',
] as const satisfies readonly (keyof GenerationInput)[];

export type SharedField = (typeof SHARED_INPUT_FIELDS)[number];

const TEXT_FIELDS = new Set<string>(['prompt', 'negativePrompt']);

const ajv = new Ajv({ strict: false, allErrors: false });
addFormats(ajv);

/** Compiled on first use: 143 compiles at start-up would slow it for models nobody asks for. */
const compiled = new Map<string, ValidateFunction>();

function validatorFor(model: ModelSpec): ValidateFunction {
  let validate = compiled.get(model.id);
  if (!validate) {
    validate = ajv.compile(requestSchema(model));
    compiled.set(model.id, validate);
  }
  return validate;
}

/** The model's whole create input as one JSON Schema, in gateway terms. */
export function requestSchema(model: ModelSpec): JsonSchema {
  const shared = model.inputs.filter((i) => i.shared);
  const options = model.inputs.filter((i) => !i.shared);
  const properties: Record<string, JsonSchema> = Object.fromEntries(shared.map((i) => [i.name, gatewaySchema(i)]));
  const required = shared.filter((i) => i.required).map((i) => i.name);
  if (options.length > 0) {
    properties['options'] = {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(options.map((i) => [i.name, i.schema])),
      required: options.filter((i) => i.required).map((i) => i.name),
    };
    if (options.some((i) => i.required)) required.push('options');
  }
  return { type: 'object', additionalProperties: false, properties, required };
}

function gatewaySchema(input: CatalogueInput): JsonSchema {
  if (input.name === 'seed' && input.schema['minimum'] === undefined && input.schema['maximum'] === undefined) {
    return { ...input.schema, minimum: 0, maximum: SEED_MAX };
  }
  if (input.name === 'imageUrls' && input.schema['minItems'] === undefined) return { ...input.schema, minItems: 1 };
  return input.schema;
}

/** The shared fields this model takes (besides `model`), in a stable order. */
export function supportedFields(model: ModelSpec): SharedField[] {
  return SHARED_INPUT_FIELDS.filter((f) => model.inputs.some((i) => i.shared && i.name === f));
}

/** The shared fields this model requires. */
export function requiredFields(model: ModelSpec): SharedField[] {
  return SHARED_INPUT_FIELDS.filter((f) => model.inputs.some((i) => i.shared && i.name === f && i.required));
}

function sharedInput(model: ModelSpec, field: string): CatalogueInput | undefined {
  return model.inputs.find((i) => i.shared && i.name === field);
}

/** Allowed values of a shared field for a model, in canonical spelling; undefined when free-form. */
export function allowedValues(model: ModelSpec, field: SharedField): (string | number)[] | undefined {
  const values = sharedInput(model, field)?.schema['enum'];
  return Array.isArray(values) ? [...(values as (string | number)[])] : undefined;
}

/** The upstream default of a shared field for a model, in canonical spelling. */
export function defaultValue(model: ModelSpec, field: SharedField): string | number | boolean | undefined {
  return sharedInput(model, field)?.schema['default'] as string | number | boolean | undefined;
}

const path = (field: string) => `input.${field}`;

/** Validates and normalises a create request; throws `BAD_USER_INPUT` naming the field and allowed values. */
export function validateInput(raw: GenerationInput): GenerationInput {
  const model = typeof raw.model === 'string' ? findModel(raw.model) : undefined;
  if (!model) {
    throw badInput(path('model'), `Unknown model ${JSON.stringify(raw.model)}: \`videoModels\` lists the ${MODELS.length} models served`);
  }

  const input: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(raw)) {
    if (field === 'model' || value === undefined || value === null) continue;
    input[field] = TEXT_FIELDS.has(field) ? checkText(field, value) : checkStorableStrings(path(field), value);
  }
  const needsOptions = model.inputs.some((i) => !i.shared && i.required);
  const candidate = needsOptions && input['options'] === undefined ? { ...input, options: {} } : input;
  const validate = validatorFor(model);
  if (!validate(candidate)) throw fromAjv(model, validate.errors?.[0], candidate);

  for (const media of model.inputs) {
    if (!media.media) continue;
    const value = media.shared ? input[media.name] : (input['options'] as Record<string, unknown> | undefined)?.[media.name];
    const at = media.shared ? media.name : `options.${media.name}`;
    checkMediaValue(at, value, media.media);
  }
  for (const option of model.inputs) {
    if (option.shared || option.media) continue;
    const value = (input['options'] as Record<string, unknown> | undefined)?.[option.name];
    if (value !== undefined) checkNestedMedia(`options.${option.name}`, value);
  }

  for (const rule of model.rules) {
    if (input[rule.ifPresent] === undefined) continue;
    const value = input[rule.field] ?? defaultValue(model, rule.field as SharedField);
    if (!rule.allowed.includes(value as string | number)) {
      throw badInput(path(rule.field), `${model.id}: ${rule.reason}`, rule.allowed);
    }
  }
  return { ...(input as Omit<GenerationInput, 'model'>), model: model.id };
}

/** One ajv error as BAD_USER_INPUT, with the field path in GraphQL terms (`input.options.cfgScale`). */
function fromAjv(model: ModelSpec, error: ErrorObject | undefined, value: Record<string, unknown>) {
  if (!error) return badInput(path('model'), `${model.id}: invalid input`);
  const at = error.instancePath.split('/').filter(Boolean);
  const params = error.params as Record<string, unknown>;
  const inOptions = at[0] === 'options';
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params['additionalProperty']);
      const accepted = inOptions || at.length === 0 ? acceptedAt(model, at.length === 0 ? 'top' : 'options') : undefined;
      const what = at.length === 0 ? name : [...at, name].join('.');
      return badInput(path(what), `${model.id} does not accept ${what}`, at.length <= 1 ? accepted : undefined);
    }
    case 'required': {
      const what = [...at, String(params['missingProperty'])].join('.');
      return badInput(path(what), `${model.id} requires ${what}`);
    }
    case 'enum': {
      const got = at.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
      return badInput(path(at.join('.')), `${model.id} does not allow ${at.join('.')} ${JSON.stringify(got)}`, params['allowedValues'] as unknown[]);
    }
    default:
      return badInput(path(at.join('.') || 'model'), `${model.id}: ${at.join('.') || 'input'} ${error.message ?? 'is invalid'}`);
  }
}

function acceptedAt(model: ModelSpec, level: 'top' | 'options'): string[] {
  if (level === 'options') return model.inputs.filter((i) => !i.shared).map((i) => i.name);
  const shared: string[] = supportedFields(model);
  return model.inputs.some((i) => !i.shared) ? [...shared, 'options'] : shared;
}

function checkText(field: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = checkStorableText(path(field), value).trim();
  if (trimmed.length === 0) throw badInput(path(field), `${field} must not be empty`);
  // Count code points, not UTF-16 units, so an emoji counts once.
  let length = 0;
  for (const _ of trimmed) if (++length > PROMPT_MAX_LENGTH) break;
  if (length > PROMPT_MAX_LENGTH) {
    throw badInput(path(field), `${field} must be at most ${PROMPT_MAX_LENGTH} characters`);
  }
  return trimmed;
}

function checkMediaValue(field: string, value: unknown, media: MediaKind): void {
  if (value === undefined) return;
  if (Array.isArray(value)) value.forEach((v, i) => checkMediaInput(`${field}.${i}`, v, media));
  else checkMediaInput(field, value, media);
}

/** URLs inside a model-specific object (elements, masks, keyframes), found by their `*_url` names. */
function checkNestedMedia(field: string, value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkNestedMedia(`${field}.${i}`, v));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (/(^|_)urls?$/i.test(key) && (typeof inner === 'string' || Array.isArray(inner))) {
      checkMediaValue(at, inner, /audio/i.test(key) ? 'audio' : /video/i.test(key) ? 'video' : 'image');
    } else {
      checkNestedMedia(at, inner);
    }
  }
}

const DATA_URI = /^data:([a-z]+)\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/]+={0,2}$/i;

/** One media input: an http(s) URL of bounded length, or a base64 data URI of the right kind. */
export function checkMediaInput(field: string, value: unknown, media: MediaKind): string {
  if (typeof value !== 'string' || value.length === 0) throw badInput(path(field), `${field} must be a URL`);
  if (value.startsWith('data:')) {
    const match = DATA_URI.exec(value);
    if (!match || match[1]!.toLowerCase() !== media) {
      throw badInput(path(field), `${field} must be an http(s) URL or a base64 data URI of type ${media}/*`);
    }
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(path(field), `${field} must be an http(s) URL or a base64 data URI`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badInput(path(field), `${field} must use http or https`, ['http', 'https']);
  }
  if (value.length > URL_MAX_LENGTH) {
    throw badInput(path(field), `${field} must be at most ${URL_MAX_LENGTH} characters`);
  }
  return value;
}

/** Idempotency keys: 1–255 printable ASCII characters. */
export function checkIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw badInput(path('idempotencyKey'), `idempotencyKey must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters without spaces`);
  }
  return key;
}
