import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { GenerationErrorCode, GenerationStatus, MediaCopyErrorCode, MediaCopyState } from '../../model/generation';
import { AspectRatio, PersonGeneration, Resolution, UpstreamProvider } from '../enums';

// simpleResolvers: the plain fields of what a subscription emits resolve with graphql-js's default
// resolver (`root[field]`), not type-graphql's per-field wrapper that runs middlewares — the gateway
// registers none — and allocates on every field of every event (BENCHMARKS.md, "Profiles").
// Methods under @FieldResolver keep their resolvers.
@ObjectType({
  description:
    "The gateway's own copy of a finished video (MEDIA_STORE). Its end (STORED or FAILED), and a stored file's removal by the retention sweep (EXPIRED), are new versions of the generation.",
  simpleResolvers: true,
})
export class MediaCopy {
  @Field(() => MediaCopyState)
  state!: MediaCopyState;

  @Field(() => Float, { nullable: true, description: 'Bytes stored.' })
  sizeBytes?: number;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the stored bytes, hex.' })
  sha256?: string;

  @Field(() => String, { nullable: true })
  contentType?: string;

  @Field(() => String, { nullable: true, description: 'When it was stored (ISO 8601).' })
  storedAt?: string;

  @Field(() => String, {
    nullable: true,
    description: 'When the retention sweep removed the stored file (EXPIRED only, ISO 8601; MEDIA_RETENTION_DAYS); `url` is the upstream link again.',
  })
  expiredAt?: string;

  @Field(() => Float, {
    nullable: true,
    description: "The video's duration in seconds, read from the stored file's MP4 header (STORED only; null when it has none).",
  })
  durationSeconds?: number;

  @Field(() => Int, { nullable: true, description: "The first video track's width in pixels, from the MP4 header." })
  width?: number;

  @Field(() => Int, { nullable: true, description: "The first video track's height in pixels, from the MP4 header." })
  height?: number;

  @Field(() => Float, { nullable: true, description: "The first video track's frames per second, from the MP4 header." })
  frameRate?: number;

  @Field(() => MediaCopyErrorCode, { nullable: true, description: 'Why it was given up (FAILED only); the upstream link stays the video.' })
  errorCode?: MediaCopyErrorCode;

  @Field(() => String, { nullable: true, description: 'The last failure, in words.' })
  errorMessage?: string;
}

@ObjectType({ description: 'The generated video.', simpleResolvers: true })
export class Video {
  @Field({
    description:
      "Where to download or play the video. Once the gateway's copy is STORED, its own signed link (`/media/<id>?exp=…&sig=…`, behind PUBLIC_BASE_URL when set, else relative), which a plain `<video src>` plays and which is valid for MEDIA_LINK_TTL_SECONDS from this read; until then, the upstream's link (`upstreamUrl`).",
  })
  url!: string;

  @Field({ description: "The upstream's own link to the video, as it gave it (provenance; it expires, see `upstreamUrlExpiresAt`)." })
  upstreamUrl!: string;

  @Field(() => Date, {
    nullable: true,
    description: "When the upstream's link stops working, when the link says so (`Expires=`, `X-Amz-Date` + `X-Amz-Expires`); null when unknown.",
  })
  upstreamUrlExpiresAt!: Date | null;

  @Field(() => String, { nullable: true })
  contentType!: string | null;

  @Field(() => String, { nullable: true })
  fileName!: string | null;

  @Field(() => Float, { nullable: true, description: 'Size in bytes, when the upstream reports it.' })
  sizeBytes!: number | null;

  @Field(() => MediaCopy, { nullable: true, description: "The gateway's own copy; null when no media store kept it." })
  copy?: MediaCopy;
}

@ObjectType({ description: 'Why a generation ended without a video.', simpleResolvers: true })
export class GenerationFailure {
  @Field(() => GenerationErrorCode)
  code!: GenerationErrorCode;

  @Field()
  message!: string;

  @Field(() => GraphQLJSON, { nullable: true, description: "The upstream's own error payload, as it sent it." })
  upstream?: unknown;
}

@ObjectType({ description: 'What the upstream charged, from its `meta.usage`.', simpleResolvers: true })
export class Usage {
  @Field(() => Float, { nullable: true })
  credits!: number | null;

  @Field(() => Float, { nullable: true, description: 'US dollars.' })
  usd!: number | null;
}

@ObjectType({ description: 'One status change, in order.', simpleResolvers: true })
export class StatusTransition {
  @Field(() => GenerationStatus)
  status!: GenerationStatus;

  @Field(() => String, { nullable: true, description: 'The raw upstream status that caused it, if any.' })
  upstreamStatus!: string | null;

  @Field()
  at!: Date;
}

/** How `settings` shows inline media (src/generations/inline-media.ts). */
const INLINE_MEDIA_NOTE =
  'A base64 data URI sent inline is shown as a summary, `[data URI <media type>, <decoded bytes> bytes, sha256 <hex of the decoded bytes>]`: only the upstream got it whole.';

@ObjectType({ description: 'The options a generation was created with (only those the client set).', simpleResolvers: true })
export class GenerationSettings {
  @Field(() => Int, { nullable: true })
  durationSeconds?: number;

  @Field(() => AspectRatio, { nullable: true })
  aspectRatio?: string;

  @Field(() => Resolution, { nullable: true })
  resolution?: string;

  @Field({ nullable: true })
  negativePrompt?: string;

  @Field(() => Int, { nullable: true })
  seed?: number;

  @Field({ nullable: true })
  enhancePrompt?: boolean;

  @Field({ nullable: true })
  generateAudio?: boolean;

  @Field({ nullable: true })
  autoFix?: boolean;

  @Field(() => PersonGeneration, { nullable: true })
  personGeneration?: string;

  @Field(() => UpstreamProvider, { nullable: true })
  provider?: string;

  @Field({ nullable: true, description: INLINE_MEDIA_NOTE })
  imageUrl?: string;

  @Field({ nullable: true, description: INLINE_MEDIA_NOTE })
  lastImageUrl?: string;

  @Field(() => [String], { nullable: true, description: INLINE_MEDIA_NOTE })
  imageUrls?: string[];

  @Field({ nullable: true, description: INLINE_MEDIA_NOTE })
  videoUrl?: string;

  @Field({ nullable: true })
  audioUrl?: string;

  @Field({ nullable: true })
  watermark?: boolean;

  @Field(() => Float, { nullable: true })
  cfgScale?: number;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The model-specific options, as given.' })
  options?: Record<string, unknown>;
}

@ObjectType({ description: 'A video generation, owned by the API key owner that created it.', simpleResolvers: true })
export class VideoGeneration {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The model id, as the AI/ML API spells it.' })
  model!: string;

  @Field(() => String, { nullable: true, description: 'Null for models that take no prompt.' })
  prompt!: string | null;

  @Field(() => GenerationSettings)
  settings!: GenerationSettings;

  @Field(() => GenerationStatus)
  status!: GenerationStatus;

  @Field(() => String, { nullable: true, description: 'The last status string the upstream reported, verbatim.' })
  upstreamStatus!: string | null;

  @Field(() => String, { nullable: true, description: "The upstream's job id (null until the create call returned)." })
  upstreamId!: string | null;

  @Field(() => Video, { nullable: true })
  video!: Video | null;

  @Field(() => GenerationFailure, { nullable: true })
  error!: GenerationFailure | null;

  @Field(() => Usage, { nullable: true })
  usage!: Usage | null;

  @Field(() => [StatusTransition], { description: 'Every status change, oldest first.' })
  transitions!: StatusTransition[];

  @Field(() => Int, { description: 'Increases by one on every visible change; subscriptions emit each version once.' })
  version!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "Estimated progress from 0 to 1, from the time elapsed against the model's typical time (the upstream reports none). 1 when completed; null when it ended without a video.",
  })
  progress!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: "Estimated seconds until completion (the median of the model's learned times, given the time elapsed); null when ended or overdue.",
  })
  etaSeconds!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'The low end of the ETA: 1 in 10 generations like this one finishes sooner (10th percentile). Null when ended or overdue.',
  })
  etaLowSeconds!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'The high end of the ETA: 9 in 10 generations like this one finish sooner (90th percentile). Null when ended or overdue.',
  })
  etaHighSeconds!: number | null;

  @Field(() => Float, {
    description:
      "How sure the estimate is: the recency-weighted count of finished generations of this model, length and resolution it learned from. 0: the catalogue's stated time alone, or the generation has ended (nothing left to estimate, so an ended generation reads the same however many finish after it).",
  })
  etaSampleCount!: number;

  @Field({
    description:
      "True while the estimate still leans on the catalogue's stated time: fewer finished generations like this one than TIMING_MIN_SAMPLES (recency-weighted, as `etaSampleCount` counts them; 3 when their times fall outside anything that figure allows) are known, so it is blended with that figure. False once it rests on learned times alone, and once the generation has ended.",
  })
  etaFromCatalogue!: boolean;

  @Field(() => Date, { nullable: true, description: 'When completion is expected, so a client can animate a progress bar itself.' })
  estimatedCompletionAt!: Date | null;

  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it reached a terminal status.' })
  completedAt!: Date | null;

  @Field({ description: 'When the gateway gives up following it (TIMED_OUT).' })
  deadlineAt!: Date;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' })
  endCursor!: string | null;
}

@ObjectType()
export class VideoGenerationEdge {
  @Field()
  cursor!: string;

  @Field(() => VideoGeneration)
  node!: VideoGeneration;
}

@ObjectType({ description: 'A page of generations, newest first.' })
export class VideoGenerationConnection {
  @Field(() => [VideoGenerationEdge])
  edges!: VideoGenerationEdge[];

  @Field(() => [VideoGeneration], { description: 'The same generations as `edges`, without cursors.' })
  nodes!: VideoGeneration[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
