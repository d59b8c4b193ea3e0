import { Arg, Query, Resolver } from 'type-graphql';
import { exampleInput } from '../../generations/example-input';
import { allowedValues, defaultValue, supportedFields } from '../../generations/validation';
import type { ModelKind } from '../../upstream/catalogue-types';
import { MODELS, type CatalogueInput, type ModelSpec } from '../../upstream/models';
import { AspectRatio, PersonGeneration, Resolution, UpstreamProvider, type InputValueType, ModelKindEnum } from '../enums';
import { ModelInput, VideoModel } from '../types/video-model.type';

/** Shared fields typed by a GraphQL enum: what a client sends is the enum name, not the value. */
const ENUM_TYPED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  aspectRatio: AspectRatio,
  resolution: Resolution,
  personGeneration: PersonGeneration,
  provider: UpstreamProvider,
};

/** An input with enum-typed values in their GraphQL names, as a client sends it. */
function inClientSpelling(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input).map(([k, v]) => {
      const names = ENUM_TYPED[k];
      const name = names && Object.entries(names).find(([, value]) => value === v)?.[0];
      return [k, name ?? v];
    }),
  );
}

const num = (v: unknown) => (typeof v === 'number' ? v : null);

function describeInput(input: CatalogueInput): ModelInput {
  const s = input.schema;
  const items = s['items'] as Record<string, unknown> | undefined;
  const type = (typeof s['type'] === 'string' ? s['type'] : Array.isArray(s['anyOf']) ? 'string' : 'object') as InputValueType;
  const values = Array.isArray(s['enum']) ? (s['enum'] as unknown[]) : null;
  const enumObject = input.shared ? ENUM_TYPED[input.name] : undefined;
  return {
    name: input.name,
    shared: input.shared,
    required: input.required,
    type,
    itemType: typeof items?.['type'] === 'string' ? (items['type'] as InputValueType) : null,
    media: input.media ?? null,
    allowedValues: values,
    enumValues: enumObject && values ? values.map((v) => Object.entries(enumObject).find(([, value]) => value === v)?.[0] ?? String(v)) : null,
    minimum: num(s['minimum']),
    maximum: num(s['maximum']),
    maxLength: num(s['maxLength']),
    minItems: num(s['minItems']),
    maxItems: num(s['maxItems']),
    default: s['default'] ?? null,
    description: typeof s['description'] === 'string' ? s['description'] : null,
    schema: s,
  };
}

function describe(model: ModelSpec): VideoModel {
  const supported = supportedFields(model);
  const values = (field: Parameters<typeof allowedValues>[1]) => (allowedValues(model, field) ?? []).map(String);
  const fallback = (field: Parameters<typeof defaultValue>[1]) => defaultValue(model, field) ?? null;
  const inputs = [...model.inputs.filter((i) => i.shared), ...model.inputs.filter((i) => !i.shared)];
  const kinds = model.kinds;
  return {
    id: model.id,
    upstreamId: model.id,
    name: model.displayName,
    vendor: model.vendor,
    family: model.family,
    kinds,
    kind: kinds[0] ?? ModelKindEnum.TEXT_TO_VIDEO,
    inputs: inputs.map(describeInput),
    durations: (allowedValues(model, 'durationSeconds') ?? []).map(Number),
    defaultDurationSeconds: fallback('durationSeconds') as number | null,
    aspectRatios: values('aspectRatio'),
    defaultAspectRatio: fallback('aspectRatio') as string | null,
    resolutions: values('resolution'),
    defaultResolution: fallback('resolution') as string | null,
    personGenerations: values('personGeneration'),
    providers: values('provider'),
    supportsAudio: supported.includes('generateAudio'),
    maxReferenceImages: num(model.inputs.find((i) => i.shared && i.name === 'imageUrls')?.schema['maxItems']),
    typicalGenerationSeconds: Math.round(model.typical.seconds),
    rules: model.rules.map((r) => r.reason),
    exampleInput: inClientSpelling(exampleInput(model) as unknown as Record<string, unknown>),
  };
}

/** Built once: the catalogue does not change while the process runs. */
const DESCRIPTIONS = MODELS.map(describe);

@Resolver(() => VideoModel)
export class VideoModelResolver {
  @Query(() => [VideoModel], {
    description:
      "Every model and what it accepts, so a client can build its form from data; optionally only one vendor's or one kind's. No API key needed.",
  })
  videoModels(
    @Arg('vendor', () => String, { nullable: true, description: "Only this vendor's models (as in `VideoModel.vendor`, any letter case)." })
    vendor?: string | null,
    @Arg('kind', () => ModelKindEnum, { nullable: true, description: 'Only models that can do this.' }) kind?: ModelKind | null,
  ): VideoModel[] {
    return DESCRIPTIONS.filter((m) => (!vendor || m.vendor.toLowerCase() === vendor.toLowerCase()) && (!kind || m.kinds.includes(kind)));
  }
}
