import { Query, Resolver } from 'type-graphql';
import { allowedValues, defaultValue, requiredFields, supportedFields } from '../../generations/validation';
import { MODELS, type ModelSpec } from '../../upstream/models';
import type { ModelKindEnum } from '../enums';
import { VideoModel } from '../types/video-model.type';

function describe(model: ModelSpec): VideoModel {
  const supported = supportedFields(model);
  const required = requiredFields(model);
  const values = (field: Parameters<typeof allowedValues>[1]) => (allowedValues(model, field) ?? []).map(String);
  const fallback = (field: Parameters<typeof defaultValue>[1]) => {
    const v = defaultValue(model, field);
    return v === undefined ? null : v;
  };
  return {
    id: model.id,
    upstreamId: model.id,
    name: model.displayName,
    kind: model.kind as ModelKindEnum,
    inputs: supported.map((name) => ({ name, required: required.includes(name) })),
    durations: (allowedValues(model, 'durationSeconds') ?? []).map(Number),
    defaultDurationSeconds: fallback('durationSeconds') as number | null,
    aspectRatios: values('aspectRatio'),
    defaultAspectRatio: fallback('aspectRatio') as string | null,
    resolutions: values('resolution'),
    defaultResolution: fallback('resolution') as string | null,
    personGenerations: values('personGeneration'),
    providers: values('provider'),
    supportsAudio: supported.includes('generateAudio'),
    maxReferenceImages: model.fields['image_urls']?.maxItems ?? null,
    typicalGenerationSeconds: model.typicalSeconds,
    rules: (model.rules ?? []).map((r) => r.reason),
  };
}

/** Built once: the catalogue does not change while the process runs. */
const DESCRIPTIONS = MODELS.map(describe);

@Resolver(() => VideoModel)
export class VideoModelResolver {
  @Query(() => [VideoModel], {
    description: 'Every model and what it accepts, so a client can build its form from data. No API key needed.',
  })
  videoModels(): VideoModel[] {
    return DESCRIPTIONS;
  }
}
