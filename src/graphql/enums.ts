/**
 * GraphQL enums. Each maps GraphQL names to the domain's own values, so resolvers pass values
 * through untouched (VEO3 ↔ `google/veo3`, LANDSCAPE_16_9 ↔ `16:9`).
 */
import { registerEnumType } from 'type-graphql';
import { GenerationErrorCode, GenerationStatus } from '../generations/types';
import { MODELS } from '../upstream/models';

/** GraphQL enum name → upstream model id, built from the catalogue. */
export const VideoModelId: Record<string, string> = Object.fromEntries(MODELS.map((m) => [m.graphqlName, m.id]));
registerEnumType(VideoModelId, {
  name: 'VideoModelId',
  description: 'A Google Veo model served through the AI/ML API. `videoModels` describes what each accepts.',
  valuesConfig: Object.fromEntries(MODELS.map((m) => [m.graphqlName, { description: `${m.displayName} — upstream id \`${m.id}\`` }])),
});

export const AspectRatio = { LANDSCAPE_16_9: '16:9', PORTRAIT_9_16: '9:16', AUTO: 'auto' } as const;
registerEnumType(AspectRatio, {
  name: 'AspectRatio',
  valuesConfig: {
    LANDSCAPE_16_9: { description: '16:9' },
    PORTRAIT_9_16: { description: '9:16' },
    AUTO: { description: 'Keep the aspect ratio of the source video (extend models only)' },
  },
});

export const Resolution = { RES_720P: '720p', RES_1080P: '1080p' } as const;
registerEnumType(Resolution, { name: 'Resolution', description: 'Output resolution; sent in each model family\'s own letter case.' });

export const PersonGeneration = { DONT_ALLOW: 'dont_allow', ALLOW_ADULT: 'allow_adult' } as const;
registerEnumType(PersonGeneration, { name: 'PersonGeneration', description: 'Whether people may appear (Veo 3.1 Lite only).' });

export const UpstreamProvider = { AUTO: 'auto', GOOGLE: 'google', FAL: 'fal' } as const;
registerEnumType(UpstreamProvider, {
  name: 'UpstreamProvider',
  description: 'Where the AI/ML API runs a Veo 3.1 job: Google, its fal.ai mirror, or Google with fal.ai as fallback (AUTO).',
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
  EXTEND_VIDEO = 'EXTEND_VIDEO',
  TEXT_OR_IMAGE_TO_VIDEO = 'TEXT_OR_IMAGE_TO_VIDEO',
}
registerEnumType(ModelKindEnum, { name: 'ModelKind' });
