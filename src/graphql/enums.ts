/**
 * GraphQL enums. Each maps GraphQL names to the domain's own values, so resolvers pass values
 * through untouched (LANDSCAPE_16_9 ↔ `16:9`). Models are named by the vendor's id, a String:
 * enum values cannot hold its `/` and `.`.
 */
import { registerEnumType } from 'type-graphql';
import {
  GENERATION_ERROR_CODE_MEANINGS,
  GENERATION_STATUS_MEANINGS,
  GenerationErrorCode,
  GenerationStatus,
  MediaCopyErrorCode,
  MediaCopyState,
  PERSON_GENERATIONS,
  UPSTREAM_PROVIDERS,
} from '../model/generation';
import { WEBHOOK_DELIVERY_STATUS_MEANINGS, WEBHOOK_EVENT_MEANINGS, WebhookDeliveryStatus, WebhookEventType } from '../model/webhook';
import { MEDIA_KINDS, MODEL_KINDS, type ModelKind } from '../upstream/catalogue-types';
import { MODELS } from '../upstream/models';

/** A `valuesConfig` whose descriptions are the domain's own meanings, written once there. */
function describedBy(meanings: Readonly<Record<string, string>>): Record<string, { description: string }> {
  return Object.fromEntries(Object.entries(meanings).map(([name, description]) => [name, { description }]));
}

/** GraphQL name → a domain value, for each value of a domain list, named in capitals (`allow_adult` ↔ `ALLOW_ADULT`). */
function namedInCapitals<V extends string>(values: readonly V[]): { readonly [K in V as Uppercase<K>]: K } {
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), value])) as { readonly [K in V as Uppercase<K>]: K };
}

/** Every value a model's catalogue allows for a shared field, in a stable order. */
function catalogueValues(field: string): string[] {
  const values = new Set<string>();
  for (const m of MODELS) {
    const allowed = m.inputs.find((i) => i.shared && i.name === field)?.schema['enum'];
    if (Array.isArray(allowed)) for (const v of allowed) values.add(String(v));
  }
  // Code-point order, not localeCompare: that faulted in ICU's collation data at every start, memory an
  // idle gateway otherwise never touches (the order of these values is the same).
  return [...values].sort((a, b) => parseFloat(a) - parseFloat(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const ASPECT_NAMES: Readonly<Record<string, string>> = { '16:9': 'LANDSCAPE_16_9', '9:16': 'PORTRAIT_9_16', auto: 'AUTO' };

/** GraphQL name → canonical aspect ratio, for every ratio some model takes (`RATIO_4_3` ↔ `4:3`). */
export const AspectRatio: Record<string, string> = Object.fromEntries(
  catalogueValues('aspectRatio').map((v) => [ASPECT_NAMES[v] ?? (/^\d+:\d+$/.test(v) ? `RATIO_${v.replace(':', '_')}` : v.toUpperCase()), v]),
);
registerEnumType(AspectRatio, {
  name: 'AspectRatio',
  description: 'Width:height of the video. Which ones a model takes: `videoModels`.',
  valuesConfig: Object.fromEntries(
    Object.entries(AspectRatio).map(([name, v]) => [
      name,
      {
        description:
          v === 'auto' ? 'Keep the aspect ratio of the source (image or video)' : v === 'adaptive' ? 'Chosen by the model from the input' : v,
      },
    ]),
  ),
});

/** GraphQL name → canonical resolution (`RES_720P` ↔ `720p`, `RES_4K` ↔ `4k`). */
export const Resolution: Record<string, string> = Object.fromEntries(catalogueValues('resolution').map((v) => [`RES_${v.toUpperCase()}`, v]));
registerEnumType(Resolution, { name: 'Resolution', description: "Output resolution; sent in each model's own letter case." });

export const PersonGeneration = namedInCapitals(PERSON_GENERATIONS);
registerEnumType(PersonGeneration, { name: 'PersonGeneration', description: 'Whether people may appear (Veo 3.1 Lite only).' });

export const UpstreamProvider = namedInCapitals(UPSTREAM_PROVIDERS);
registerEnumType(UpstreamProvider, {
  name: 'UpstreamProvider',
  description:
    "Where the AI/ML API runs the job: the model's own maker (NATIVE: Google, Kling, ByteDance…), its fal.ai mirror (FAL), or native with fal.ai as fallback (AUTO, the default).",
});

registerEnumType(GenerationStatus, {
  name: 'GenerationStatus',
  description: 'Where a generation is. COMPLETED, FAILED, CANCELLED and TIMED_OUT are terminal.',
  valuesConfig: describedBy(GENERATION_STATUS_MEANINGS),
});

registerEnumType(GenerationErrorCode, {
  name: 'GenerationErrorCode',
  description: 'Why a generation ended without a video.',
  valuesConfig: describedBy(GENERATION_ERROR_CODE_MEANINGS),
});

registerEnumType(WebhookEventType, {
  name: 'WebhookEventType',
  description: "What a webhook reports; the payload's `type` spells it in lower case with dots (GENERATION_COMPLETED is `generation.completed`).",
  valuesConfig: Object.fromEntries(Object.entries(WebhookEventType).map(([name, value]) => [name, { description: WEBHOOK_EVENT_MEANINGS[value] }])),
});

registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'Where a webhook delivery is.',
  valuesConfig: describedBy(WEBHOOK_DELIVERY_STATUS_MEANINGS),
});

registerEnumType(MediaCopyState, {
  name: 'MediaCopyState',
  description: "Where the copy of a finished video into the gateway's media store stands.",
});

registerEnumType(MediaCopyErrorCode, { name: 'MediaCopyErrorCode', description: 'Why the copy of a finished video was given up.' });

/** The catalogue's model kinds, named as they are spelled. */
export const ModelKindEnum = Object.fromEntries(MODEL_KINDS.map((kind) => [kind, kind])) as { readonly [K in ModelKind]: K };
registerEnumType(ModelKindEnum, {
  name: 'ModelKind',
  description: 'What a model makes from what: a model has one or more (text to video, optionally from a first frame…).',
});

/** The catalogue's media kinds (`IMAGE` ↔ `image`). */
export const MediaKindEnum = namedInCapitals(MEDIA_KINDS);
registerEnumType(MediaKindEnum, {
  name: 'MediaKind',
  description: 'What a URL input must point at: an http(s) URL, or a base64 data URI of this type.',
});

export enum InputValueType {
  STRING = 'string',
  INTEGER = 'integer',
  NUMBER = 'number',
  BOOLEAN = 'boolean',
  ARRAY = 'array',
  OBJECT = 'object',
}
registerEnumType(InputValueType, { name: 'InputValueType', description: 'The JSON type of an input value.' });
