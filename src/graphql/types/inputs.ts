import { Field, InputType, Int } from 'type-graphql';
import { GenerationStatus } from '../../generations/types';
import { AspectRatio, PersonGeneration, Resolution, UpstreamProvider, VideoModelId } from '../enums';

@InputType({
  description:
    "A video to generate. Which options a model takes differs: `videoModels` lists them, and anything a model does not take is rejected with BAD_USER_INPUT before any upstream call.",
})
export class CreateVideoGenerationInput {
  @Field(() => VideoModelId)
  model!: string;

  @Field({ description: 'What to generate. Any language; 1 to 4000 characters after trimming.' })
  prompt!: string;

  @Field(() => Int, { nullable: true, description: "Video length in seconds; the model's allowed values only." })
  durationSeconds?: number;

  @Field(() => AspectRatio, { nullable: true })
  aspectRatio?: string;

  @Field(() => Resolution, { nullable: true })
  resolution?: string;

  @Field({ nullable: true, description: 'What to keep out of the video.' })
  negativePrompt?: string;

  @Field(() => Int, { nullable: true, description: 'For repeatable results, 0 to 2147483647.' })
  seed?: number;

  @Field({ nullable: true, description: 'Let the upstream rewrite the prompt for quality (upstream default: true).' })
  enhancePrompt?: boolean;

  @Field({ nullable: true, description: 'Generate a soundtrack (upstream default: true; may cost more).' })
  generateAudio?: boolean;

  @Field({ nullable: true, description: 'Let the upstream rewrite prompts that fail its policy checks.' })
  autoFix?: boolean;

  @Field(() => PersonGeneration, { nullable: true })
  personGeneration?: string;

  @Field(() => UpstreamProvider, { nullable: true })
  provider?: string;

  @Field({ nullable: true, description: 'First frame: an http(s) URL or a base64 `data:image/…` URI.' })
  imageUrl?: string;

  @Field({ nullable: true, description: 'Last frame: an http(s) URL or a base64 `data:image/…` URI.' })
  lastImageUrl?: string;

  @Field(() => [String], { nullable: true, description: 'Reference images (reference-to-video models).' })
  imageUrls?: string[];

  @Field({ nullable: true, description: 'The clip to extend (extend models): an http(s) URL or a `data:video/…` URI.' })
  videoUrl?: string;

  @Field({
    nullable: true,
    description:
      'Makes the create safe to retry: the same owner, key and input return the same generation (kept at least 24 h); the same key with another input is IDEMPOTENCY_CONFLICT.',
  })
  idempotencyKey?: string;
}

@InputType()
export class VideoGenerationFilter {
  @Field(() => [GenerationStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: GenerationStatus[];

  @Field(() => [VideoModelId], { nullable: true, description: 'Any of these models.' })
  model?: string[];
}
