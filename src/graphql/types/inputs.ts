import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, InputType, Int } from 'type-graphql';
import { GenerationStatus } from '../../model/generation';
import { AspectRatio, PersonGeneration, Resolution, UpstreamProvider } from '../enums';
import { GenerationWebhookInput } from './webhook-signing-secret.type';

@InputType({
  description:
    'A video to generate. The concepts most models share are typed fields; anything else a model documents goes in `options`. `videoModels` lists what each model takes, and anything it does not take is rejected with BAD_USER_INPUT before any upstream call.',
})
export class CreateVideoGenerationInput {
  @Field({ description: 'The model id, exactly as the AI/ML API spells it (e.g. `google/veo3`, `klingai/video-v3-pro-text-to-video`).' })
  model!: string;

  @Field({
    nullable: true,
    description:
      'What to generate. Any language; 1 to 4000 characters after trimming (less where the model says so). Required by most models; a few (lip-sync, animate, effects) take none.',
  })
  prompt?: string;

  @Field(() => Int, { nullable: true, description: "Video length in seconds; the model's allowed values or range only." })
  durationSeconds?: number;

  @Field(() => AspectRatio, { nullable: true })
  aspectRatio?: string;

  @Field(() => Resolution, { nullable: true })
  resolution?: string;

  @Field({ nullable: true, description: 'What to keep out of the video.' })
  negativePrompt?: string;

  @Field(() => Int, { nullable: true, description: 'For repeatable results; 0 to 2147483647 unless the model states its own range.' })
  seed?: number;

  @Field({ nullable: true, description: 'Let the upstream rewrite the prompt for quality (prompt enhancement or expansion).' })
  enhancePrompt?: boolean;

  @Field({ nullable: true, description: 'Generate a soundtrack (may cost more).' })
  generateAudio?: boolean;

  @Field({ nullable: true, description: 'Let the upstream rewrite prompts that fail its policy checks.' })
  autoFix?: boolean;

  @Field(() => PersonGeneration, { nullable: true })
  personGeneration?: string;

  @Field(() => UpstreamProvider, { nullable: true })
  provider?: string;

  @Field({ nullable: true, description: 'First frame or source image: an http(s) URL or a base64 `data:image/…` URI.' })
  imageUrl?: string;

  @Field({ nullable: true, description: 'Last frame: an http(s) URL or a base64 `data:image/…` URI.' })
  lastImageUrl?: string;

  @Field(() => [String], { nullable: true, description: 'Reference images: http(s) URLs or `data:image/…` URIs.' })
  imageUrls?: string[];

  @Field({ nullable: true, description: 'Source video (extend, edit, lip-sync…): an http(s) URL or a `data:video/…` URI.' })
  videoUrl?: string;

  @Field({ nullable: true, description: 'Audio input (lip-sync, avatars, soundtrack): an http(s) URL or a `data:audio/…` URI.' })
  audioUrl?: string;

  @Field({ nullable: true, description: 'Whether the video carries a watermark.' })
  watermark?: boolean;

  @Field(() => Float, { nullable: true, description: 'How strictly to follow the prompt (classifier-free guidance).' })
  cfgScale?: number;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Model-specific inputs, keyed by the names `videoModels` lists as options (e.g. `{ cameraControl: …, shotType: "customize" }`), validated against that model\'s schema.',
  })
  options?: Record<string, unknown>;

  @Field({
    nullable: true,
    description:
      'Makes the create safe to retry: the same owner, key and input return the same generation (kept at least 24 h); the same key with another input is IDEMPOTENCY_CONFLICT.',
  })
  idempotencyKey?: string;

  @Field(() => GenerationWebhookInput, {
    nullable: true,
    description:
      'A webhook for this generation only, signed with your webhook signing secret (create it first with `rotateWebhookSigningSecret`). Sent besides your webhook endpoints.',
  })
  webhook?: GenerationWebhookInput | null;
}

@InputType()
export class VideoGenerationFilter {
  @Field(() => [GenerationStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: GenerationStatus[];

  @Field(() => [String], { nullable: true, description: 'Any of these model ids.' })
  model?: string[];
}
