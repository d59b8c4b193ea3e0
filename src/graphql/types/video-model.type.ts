import { Field, Int, ObjectType } from 'type-graphql';
import { AspectRatio, ModelKindEnum, PersonGeneration, Resolution, UpstreamProvider, VideoModelId } from '../enums';

@ObjectType({ description: 'One input a model takes, so a client can build its form from data.' })
export class ModelInput {
  @Field({ description: 'The `CreateVideoGenerationInput` field name.' })
  name!: string;

  @Field()
  required!: boolean;
}

@ObjectType({ description: "A model's capabilities: which inputs it takes and which values they allow." })
export class VideoModel {
  @Field(() => VideoModelId)
  id!: string;

  @Field({ description: 'The model id on the AI/ML API.' })
  upstreamId!: string;

  @Field()
  name!: string;

  @Field(() => ModelKindEnum)
  kind!: ModelKindEnum;

  @Field(() => [ModelInput], { description: 'Inputs besides `model` and `prompt`.' })
  inputs!: ModelInput[];

  @Field(() => [Int], { description: 'Allowed `durationSeconds` values.' })
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

  @Field(() => Int, { description: 'Typical seconds from create to completion.' })
  typicalGenerationSeconds!: number;

  @Field(() => [String], { description: 'Cross-field rules, in words (e.g. a last frame requires 8 seconds).' })
  rules!: string[];
}
