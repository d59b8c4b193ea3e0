/**
 * One generic validator for every model: it reads the catalogue, so no model has code of its own.
 * It runs before anything is stored or sent, so bad input never costs an upstream call.
 */
import { badInput } from '../errors';
import { findModel, MODELS, type ModelSpec, type WireField } from '../upstream/models';
import { wireFieldFor } from '../upstream/wire';
import { checkStorableText } from './storable-values';
import type { GenerationInput } from './types';

/** Longest prompt (and negative prompt) accepted, in Unicode code points. */
export const PROMPT_MAX_LENGTH = 4_000;
/** Longest http(s) media URL accepted, in characters. */
export const URL_MAX_LENGTH = 2_048;
/** Longest idempotency key accepted, in characters (as Stripe and the IETF draft suggest). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** The largest seed the upstream models take (a 32-bit signed integer, as GraphQL's Int). */
const SEED_MAX = 2_147_483_647;

/** Input fields that are not options: they never map to an optional wire field. */
const OPTION_FIELDS = [
  'durationSeconds',
  'aspectRatio',
  'resolution',
  'negativePrompt',
  'seed',
  'enhancePrompt',
  'generateAudio',
  'autoFix',
  'personGeneration',
  'provider',
  'imageUrl',
  'lastImageUrl',
  'imageUrls',
  'videoUrl',
] as const satisfies readonly (keyof GenerationInput)[];

export type OptionField = (typeof OPTION_FIELDS)[number];

/** The input fields this model accepts besides `prompt`, in a stable order. */
export function supportedFields(model: ModelSpec): OptionField[] {
  return OPTION_FIELDS.filter((f) => wireFieldFor(model, f) !== undefined);
}

/** The input fields this model requires besides `prompt`. */
export function requiredFields(model: ModelSpec): OptionField[] {
  return OPTION_FIELDS.filter((f) => {
    const wire = wireFieldFor(model, f);
    return wire !== undefined && model.required.includes(wire);
  });
}

/** Allowed values of a field for a model, in canonical (gateway) spelling; undefined when free-form. */
export function allowedValues(model: ModelSpec, field: OptionField): (string | number)[] | undefined {
  const wire = wireFieldFor(model, field);
  const spec = wire ? model.fields[wire] : undefined;
  if (!spec?.enum) return undefined;
  return spec.enum.map((v) => (field === 'resolution' || spec.caseInsensitive ? String(v).toLowerCase() : v));
}

/** The upstream default of a field for a model, in canonical spelling. */
export function defaultValue(model: ModelSpec, field: OptionField): string | number | boolean | undefined {
  const wire = wireFieldFor(model, field);
  const value = wire ? model.fields[wire]?.default : undefined;
  return field === 'resolution' && typeof value === 'string' ? value.toLowerCase() : value;
}

const path = (field: string) => `input.${field}`;

/** Validates and normalises a create request; throws `BAD_USER_INPUT` naming the field and allowed values. */
export function validateInput(raw: GenerationInput): GenerationInput {
  const model = findModel(raw.model);
  if (!model) throw badInput(path('model'), `Unknown model "${raw.model}"`, MODELS.map((m) => m.graphqlName));

  const prompt = checkText('prompt', raw.prompt, true) as string;
  const input: GenerationInput = { model: model.id, prompt };

  const supported = supportedFields(model);
  for (const field of OPTION_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (!supported.includes(field)) {
      throw badInput(path(field), `${model.graphqlName} does not accept ${field}`, supported);
    }
    const wire = wireFieldFor(model, field)!;
    (input as unknown as Record<string, unknown>)[field] = checkValue(model, field, model.fields[wire]!, value);
  }

  for (const field of requiredFields(model)) {
    if (input[field] === undefined) throw badInput(path(field), `${model.graphqlName} requires ${field}`);
  }

  for (const rule of model.rules ?? []) {
    const trigger = supported.find((f) => wireFieldFor(model, f) === rule.ifPresent);
    const target = supported.find((f) => wireFieldFor(model, f) === rule.field);
    if (!trigger || !target || input[trigger] === undefined) continue;
    const value = input[target] ?? defaultValue(model, target);
    if (!rule.allowed.includes(value as string | number)) {
      throw badInput(path(target), `${model.graphqlName}: ${rule.reason}`, rule.allowed);
    }
  }
  return input;
}

function checkValue(model: ModelSpec, field: OptionField, spec: WireField, value: unknown): unknown {
  switch (field) {
    case 'negativePrompt':
      return checkText(field, value, false);
    case 'seed':
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > SEED_MAX) {
        throw badInput(path(field), `seed must be an integer from 0 to ${SEED_MAX}`);
      }
      return value;
    case 'imageUrl':
    case 'lastImageUrl':
    case 'videoUrl':
      return checkMediaUrl(field, value, spec.media ?? 'image');
    case 'imageUrls': {
      if (!Array.isArray(value) || value.length === 0) {
        throw badInput(path(field), `${field} needs at least one URL`);
      }
      if (spec.maxItems !== undefined && value.length > spec.maxItems) {
        throw badInput(path(field), `${model.graphqlName} takes at most ${spec.maxItems} reference images`);
      }
      return value.map((v, i) => checkMediaUrl(`${field}.${i}`, v, spec.media ?? 'image'));
    }
    default: {
      const allowed = allowedValues(model, field);
      if (allowed && !allowed.includes(value as string | number)) {
        throw badInput(path(field), `${model.graphqlName} does not allow ${field} ${JSON.stringify(value)}`, allowed);
      }
      return value;
    }
  }
}

function checkText(field: string, value: unknown, required: boolean): string | undefined {
  if (typeof value !== 'string') {
    if (required) throw badInput(path(field), `${field} is required`);
    return undefined;
  }
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

const DATA_URI = /^data:([a-z]+)\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/]+={0,2}$/i;

function checkMediaUrl(field: string, value: unknown, media: 'image' | 'video'): string {
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
    throw badInput(
      path('idempotencyKey'),
      `idempotencyKey must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters without spaces`,
    );
  }
  return key;
}
