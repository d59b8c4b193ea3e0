/**
 * GraphQL enums. Each maps GraphQL names to the domain's own values, so resolvers pass values
 * through untouched (LANDSCAPE_16_9 ↔ `16:9`). Models are named by the vendor's id, a String:
 * enum values cannot hold its `/` and `.`.
 */
import { registerEnumType } from 'type-graphql';
import { GenerationErrorCode, GenerationStatus } from '../model/generation';
import { MODELS } from '../upstream/models';

/** Every value a model's catalogue allows for a shared field, in a stable order. */
function catalogueValues(field: string): string[] {
  const values = new Set<string>();
  for (const m of MODELS) {
    const allowed = m.inputs.find((i) => i.shared && i.name === field)?.schema['enum'];
    if (Array.isArray(allowed)) for (const v of allowed) values.add(String(v));
  }
  return [...values].sort((a, b) => parseFloat(a) - parseFloat(b) || a.localeCompare(b));
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
      { description: v === 'auto' ? 'Keep the aspect ratio of the source (image or video)' : v === 'adaptive' ? 'Chosen by the model from the input' : v },
    ]),
  ),
});

/** GraphQL name → canonical resolution (`RES_720P` ↔ `720p`, `RES_4K` ↔ `4k`). */
export const Resolution: Record<string, string> = Object.fromEntries(
  catalogueValues('resolution').map((v) => [`RES_${v.toUpperCase()}`, v]),
);
registerEnumType(Resolution, { name: 'Resolution', description: "Output resolution; sent in each model's own letter case." });

export const PersonGeneration = { DONT_ALLOW: 'dont_allow', ALLOW_ADULT: 'allow_adult' } as const;
registerEnumType(PersonGeneration, { name: 'PersonGeneration', description: 'Whether people may appear (Veo 3.1 Lite only).' });

export const UpstreamProvider = { AUTO: 'auto', NATIVE: 'native', FAL: 'fal' } as const;
registerEnumType(UpstreamProvider, {
  name: 'UpstreamProvider',
  description:
    "Where the AI/ML API runs the job: the model's own maker (NATIVE: Google, Kling, ByteDance…), its fal.ai mirror (FAL), or native with fal.ai as fallback (AUTO, the default).",
});

registerEnumType(GenerationStatus, {
  name: 'GenerationStatus',
  description: 'Where a generation is. COMPLETED, FAILED, CANCELLED and TIMED_OUT are terminal.',
  valuesConfig: {
    QUEUED: { description: 'Accepted upstream, waiting to start (also while the create call is in flight)' },
    GENERATING: { description: 'The upstream is generating the video' },
    COMPLETED: { description: 'Done: `video.url` is set' },
    FAILED: { description: 'Ended without a video: see `error`' },
    CANCELLED: {
      description:
        'The owner cancelled it: the gateway stopped following it. The upstream has no cancel call, so its job is not stopped (and may still be charged).',
    },
    TIMED_OUT: { description: 'Still pending upstream when the gateway\'s deadline passed' },
  },
});

registerEnumType(GenerationErrorCode, {
  name: 'GenerationErrorCode',
  description: 'Why a generation ended without a video.',
  valuesConfig: {
    UPSTREAM_FAILED: { description: 'The upstream reported a failure; its payload is in `GenerationFailure.upstream`' },
    NO_VIDEO: { description: 'The upstream reported completion without a video URL' },
    CREATE_OUTCOME_UNKNOWN: {
      description:
        'The create call was sent but its answer was lost. It was not re-sent (that could pay twice); the job may exist upstream.',
    },
    DEADLINE_EXCEEDED: { description: "Still pending when the gateway's deadline passed" },
    UPSTREAM_LOST: { description: 'The upstream no longer knows the job' },
    CANCELLED_BY_OWNER: { description: 'Its owner cancelled it; the upstream job was not stopped' },
  },
});

export enum ModelKindEnum {
  TEXT_TO_VIDEO = 'TEXT_TO_VIDEO',
  IMAGE_TO_VIDEO = 'IMAGE_TO_VIDEO',
  FIRST_LAST_FRAME_TO_VIDEO = 'FIRST_LAST_FRAME_TO_VIDEO',
  REFERENCE_TO_VIDEO = 'REFERENCE_TO_VIDEO',
  VIDEO_TO_VIDEO = 'VIDEO_TO_VIDEO',
  EXTEND_VIDEO = 'EXTEND_VIDEO',
  AVATAR_LIP_SYNC = 'AVATAR_LIP_SYNC',
}
registerEnumType(ModelKindEnum, {
  name: 'ModelKind',
  description: 'What a model makes from what: a model has one or more (text to video, optionally from a first frame…).',
});

export enum MediaKindEnum {
  IMAGE = 'image',
  VIDEO = 'video',
  AUDIO = 'audio',
}
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
