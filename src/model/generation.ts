/**
 * The generation as the gateway stores and serves it. Wire formats stay in `upstream/`.
 */

/** What each one means: `GENERATION_STATUS_MEANINGS`. */
export enum GenerationStatus {
  QUEUED = 'QUEUED',
  GENERATING = 'GENERATING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  TIMED_OUT = 'TIMED_OUT',
}

/** Each status's meaning, in the words clients read (the schema's descriptions are these). */
export const GENERATION_STATUS_MEANINGS: Readonly<Record<GenerationStatus, string>> = {
  [GenerationStatus.QUEUED]: 'Accepted upstream, waiting to start (also while the create call is in flight)',
  [GenerationStatus.GENERATING]: 'The upstream is generating the video',
  [GenerationStatus.COMPLETED]: 'Done: `video.url` is set',
  [GenerationStatus.FAILED]: 'Ended without a video: see `error`',
  [GenerationStatus.CANCELLED]:
    'The owner cancelled it: the gateway stopped following it. The upstream has no cancel call, so its job is not stopped (and may still be charged).',
  [GenerationStatus.TIMED_OUT]: "Still pending upstream when the gateway's deadline passed",
};

export const TERMINAL_STATUSES: ReadonlySet<GenerationStatus> = new Set([
  GenerationStatus.COMPLETED,
  GenerationStatus.FAILED,
  GenerationStatus.CANCELLED,
  GenerationStatus.TIMED_OUT,
]);

export function isTerminal(status: GenerationStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Canonical (gateway) spellings; the upstream adapter maps them to each model's wire spelling. */
export type AspectRatio = string;
export type Resolution = string;
export const PERSON_GENERATIONS = ['dont_allow', 'allow_adult'] as const;
export type PersonGeneration = (typeof PERSON_GENERATIONS)[number];
/** `native` is the model's own maker (Google, Kling, ByteDance…); `fal` its fal.ai mirror; `auto` native then fal. */
export const UPSTREAM_PROVIDERS = ['auto', 'native', 'fal'] as const;
export type UpstreamProvider = (typeof UPSTREAM_PROVIDERS)[number];

/**
 * What a client asked for, after validation. Only fields the client set are present. The shared
 * fields are typed; everything else a model documents is in `options`, keyed by the catalogue's
 * option names. The model's catalogue entry says which fields it takes.
 */
export interface GenerationInput {
  /** The vendor's model id, exactly as it spells it (e.g. `google/veo3`, `klingai/video-v3-pro-text-to-video`). */
  model: string;
  /** Absent only for models that take none (lip-sync, animate, effects). */
  prompt?: string;
  durationSeconds?: number;
  aspectRatio?: AspectRatio;
  resolution?: Resolution;
  negativePrompt?: string;
  seed?: number;
  enhancePrompt?: boolean;
  generateAudio?: boolean;
  autoFix?: boolean;
  personGeneration?: PersonGeneration;
  provider?: UpstreamProvider;
  imageUrl?: string;
  lastImageUrl?: string;
  imageUrls?: string[];
  videoUrl?: string;
  audioUrl?: string;
  watermark?: boolean;
  cfgScale?: number;
  options?: Record<string, unknown>;
}

export interface Transition {
  status: GenerationStatus;
  /** The raw upstream status that caused it, when there was one. */
  upstreamStatus: string | null;
  at: Date;
}

export interface GenerationVideo {
  /** The upstream's link (signed, and it may expire). */
  url: string;
  contentType: string | null;
  fileName: string | null;
  sizeBytes: number | null;
  /**
   * The gateway's own copy in its media store. Absent on generations completed while no media store
   * was configured (or before there was one).
   */
  copy?: MediaCopy;
}

/** Where the copy of a finished video into the media store stands. */
export enum MediaCopyState {
  /** Queued or being copied; its generation changes again (a new version) when it ends. */
  PENDING = 'PENDING',
  STORED = 'STORED',
  /** Given up: `errorCode` says why. The upstream's link is still the video's URL. */
  FAILED = 'FAILED',
}

/** Why a copy finally failed. */
export enum MediaCopyErrorCode {
  /** The upstream's link answered 403, 404 or 410 (expired, or removed). */
  LINK_GONE = 'LINK_GONE',
  /** The file is larger than MEDIA_MAX_BYTES. */
  TOO_LARGE = 'TOO_LARGE',
  /** The link did not answer with a video content type. */
  WRONG_CONTENT_TYPE = 'WRONG_CONTENT_TYPE',
  /** Every attempt failed with something that might have passed (timeouts, 5xx, cut-off bodies, a failing store). */
  ATTEMPTS_EXHAUSTED = 'ATTEMPTS_EXHAUSTED',
}

/** JSON-safe (it is stored inside the generation's video): times are ISO strings. */
export interface MediaCopy {
  state: MediaCopyState;
  /** Bytes stored. */
  sizeBytes?: number;
  /** SHA-256 of the stored bytes, hex. */
  sha256?: string;
  contentType?: string;
  storedAt?: string;
  errorCode?: MediaCopyErrorCode;
  /** The last failure, in words (for operators and the owner; never a secret). */
  errorMessage?: string;
}

/**
 * Ended and will not change again: terminal, and no copy of its video still pending. Only such a
 * generation may be kept in memory or end a subscription.
 */
export function isSettled(g: Pick<GenerationState, 'status' | 'video'>): boolean {
  return isTerminal(g.status) && g.video?.copy?.state !== MediaCopyState.PENDING;
}

/** Why a generation failed, timed out or was cancelled. */
export interface GenerationError {
  /** A stable code from `GenerationErrorCode`. */
  code: GenerationErrorCode;
  message: string;
  /** The upstream's own error payload, when there was one (any JSON). */
  upstream?: unknown;
}

/** What each one means: `GENERATION_ERROR_CODE_MEANINGS`. */
export enum GenerationErrorCode {
  UPSTREAM_FAILED = 'UPSTREAM_FAILED',
  NO_VIDEO = 'NO_VIDEO',
  CREATE_OUTCOME_UNKNOWN = 'CREATE_OUTCOME_UNKNOWN',
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  UPSTREAM_LOST = 'UPSTREAM_LOST',
  CANCELLED_BY_OWNER = 'CANCELLED_BY_OWNER',
}

/** Each code's meaning, in the words clients read (the schema's descriptions are these). */
export const GENERATION_ERROR_CODE_MEANINGS: Readonly<Record<GenerationErrorCode, string>> = {
  [GenerationErrorCode.UPSTREAM_FAILED]: 'The upstream reported a failure; its payload is in `GenerationFailure.upstream`',
  [GenerationErrorCode.NO_VIDEO]: 'The upstream reported completion without a video URL',
  // Its answer lost to a timeout, a dropped connection or an unreadable body.
  [GenerationErrorCode.CREATE_OUTCOME_UNKNOWN]:
    'The create call was sent but its answer was lost. It was not re-sent (that could pay twice); the job may exist upstream.',
  [GenerationErrorCode.DEADLINE_EXCEEDED]: "Still pending when the gateway's deadline passed",
  // Polls answered 404 several times in a row (the poller's `notFoundLimit`).
  [GenerationErrorCode.UPSTREAM_LOST]: 'The upstream no longer knows the job',
  [GenerationErrorCode.CANCELLED_BY_OWNER]: 'Its owner cancelled it; the upstream job was not stopped',
};

export interface Usage {
  credits: number | null;
  usd: number | null;
}

/** Fields a client can see; any change to them bumps `version`. */
export interface GenerationState {
  status: GenerationStatus;
  upstreamId: string | null;
  upstreamStatus: string | null;
  video: GenerationVideo | null;
  error: GenerationError | null;
  usage: Usage | null;
  completedAt: Date | null;
}

export interface Generation extends GenerationState {
  id: string;
  owner: string;
  input: GenerationInput;
  /** Hash of the canonical input, for idempotency checks. */
  inputHash: string;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  deadlineAt: Date;
  /** Starts at 1 on insert; +1 on every visible change. */
  version: number;
  transitions: Transition[];
  /** Poller bookkeeping. `nextPollAt` null means "not to be polled" (submitting or terminal). */
  nextPollAt: Date | null;
  pollCount: number;
  pollFailures: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** How many times the row was claimed; identifies the current claim (see `Lease`). */
  leaseEpoch: number;
}
