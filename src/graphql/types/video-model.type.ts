import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { MediaKind, ModelKind } from '../../upstream/catalogue-types';
import { AspectRatio, InputValueType, MediaKindEnum, ModelKindEnum, PersonGeneration, Resolution, UpstreamProvider } from '../enums';

@ObjectType({ description: 'One input a model takes, so a client can build its form from data.' })
export class ModelInput {
  @Field({ description: 'A `CreateVideoGenerationInput` field when `shared`, else a key of its `options`.' })
  name!: string;

  @Field({ description: 'A typed field of the create input (true) or a model-specific option (false).' })
  shared!: boolean;

  @Field()
  required!: boolean;

  @Field(() => InputValueType)
  type!: InputValueType;

  @Field(() => InputValueType, { nullable: true, description: 'The type of each item, for arrays.' })
  itemType!: InputValueType | null;

  @Field(() => MediaKindEnum, { nullable: true, description: 'Set on URL inputs: what they must point at.' })
  media!: MediaKind | null;

  @Field(() => [GraphQLJSON], { nullable: true, description: 'The allowed values, as the gateway spells them (`16:9`, `720p`, 5).' })
  allowedValues!: unknown[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'For shared fields typed by a GraphQL enum: the enum names to send, in the order of `allowedValues`.',
  })
  enumValues!: string[] | null;

  @Field(() => Float, { nullable: true })
  minimum!: number | null;

  @Field(() => Float, { nullable: true })
  maximum!: number | null;

  @Field(() => Int, { nullable: true, description: 'Longest string, in characters.' })
  maxLength!: number | null;

  @Field(() => Int, { nullable: true })
  minItems!: number | null;

  @Field(() => Int, { nullable: true })
  maxItems!: number | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The value the upstream uses when the input is omitted.' })
  default!: unknown;

  @Field(() => String, { nullable: true, description: "The vendor's description." })
  description!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'The full JSON Schema the value is validated against (nested objects included).' })
  schema!: Record<string, unknown>;
}

@ObjectType({ description: "A model's capabilities: which inputs it takes and which values they allow." })
export class VideoModel {
  @Field({ description: 'The model id on the AI/ML API, exactly as it spells it: what `CreateVideoGenerationInput.model` takes.' })
  id!: string;

  @Field({ deprecationReason: 'Same as `id`.' })
  upstreamId!: string;

  @Field({ description: 'A display name.' })
  name!: string;

  @Field({ description: 'Who makes it (Google, Kling, ByteDance…).' })
  vendor!: string;

  @Field({ description: 'The model line it belongs to (versions and tiers of one model share it).' })
  family!: string;

  @Field(() => [ModelKindEnum], { description: 'What it makes from what; the first is its main use.' })
  kinds!: ModelKind[];

  @Field(() => ModelKindEnum, { description: 'Its main use (the first of `kinds`).' })
  kind!: ModelKind;

  @Field(() => [ModelInput], { description: 'Every input besides `model`: the shared typed fields it takes, then its options.' })
  inputs!: ModelInput[];

  @Field(() => [Int], { description: 'Allowed `durationSeconds` values (empty when any in a range, see `inputs`).' })
  durations!: number[];

  @Field(() => Int, { nullable: true, description: 'Duration used when none is given.' })
  defaultDurationSeconds!: number | null;

  @Field(() => [AspectRatio])
  aspectRatios!: string[];

  @Field(() => AspectRatio, { nullable: true })
  defaultAspectRatio!: string | null;

  @Field(() => [Resolution])
  resolutions!: string[];

  @Field(() => Resolution, { nullable: true })
  defaultResolution!: string | null;

  @Field(() => [PersonGeneration])
  personGenerations!: string[];

  @Field(() => [UpstreamProvider])
  providers!: string[];

  @Field({ description: 'Whether `generateAudio` is available.' })
  supportsAudio!: boolean;

  @Field(() => Int, { nullable: true, description: 'Most reference images `imageUrls` may hold.' })
  maxReferenceImages!: number | null;

  @Field(() => Int, { description: 'Typical seconds from create to completion at the default duration.' })
  typicalGenerationSeconds!: number;

  @Field(() => [String], { description: 'Cross-field rules, in words (e.g. a last frame requires 8 seconds).' })
  rules!: string[];

  @Field(() => GraphQLJSONObject, {
    description: 'A minimal valid `CreateVideoGenerationInput` for this model (its required inputs only), as a starting point.',
  })
  exampleInput!: Record<string, unknown>;
}
