/**
 * The generation as the gateway stores and serves it. Wire formats stay in `upstream/`.
 */

export enum GenerationStatus {
  QUEUED = 'QUEUED',
  GENERATING = 'GENERATING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  /** The owner asked the gateway to stop following it; the upstream job itself is not stopped. */
  CANCELLED = 'CANCELLED',
  /** Still pending upstream when the gateway's deadline passed. */
  TIMED_OUT = 'TIMED_OUT',
}

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
export type PersonGeneration = 'dont_allow' | 'allow_adult';
/** `native` is the model's own maker (Google, Kling, ByteDance…); `fal` its fal.ai mirror; `auto` native then fal. */
export type UpstreamProvider = 'auto' | 'native' | 'fal';

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
  url: string;
  contentType: string | null;
  fileName: string | null;
  sizeBytes: number | null;
}

/** Why a generation failed, timed out or was cancelled. */
export interface GenerationError {
  /** A stable code from `GenerationErrorCode`. */
  code: GenerationErrorCode;
  message: string;
  /** The upstream's own error payload, when there was one (any JSON). */
  upstream?: unknown;
}

export enum GenerationErrorCode {
  /** The upstream reported `status: "error"`. */
  UPSTREAM_FAILED = 'UPSTREAM_FAILED',
  /** The upstream reported completion without a video URL. */
  NO_VIDEO = 'NO_VIDEO',
  /**
   * The create request was sent but its answer never arrived intact (timeout, dropped connection,
   * unreadable body). The job may exist upstream; it is never re-submitted, because that would pay twice.
   */
  CREATE_OUTCOME_UNKNOWN = 'CREATE_OUTCOME_UNKNOWN',
  /** Still pending when the gateway's deadline passed. */
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  /** The upstream no longer knows the job (404 on poll). */
  UPSTREAM_LOST = 'UPSTREAM_LOST',
  CANCELLED_BY_OWNER = 'CANCELLED_BY_OWNER',
}

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
