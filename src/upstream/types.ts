import type { GenerationInput, GenerationVideo, Usage } from '../model/generation';

/** What the upstream said about a job, parsed tolerantly from the wire. */
export interface UpstreamJob {
  upstreamId: string;
  /** Raw status string as sent (lower-cased), e.g. `queued`, `generating`, `completed`, `error`. */
  status: string;
  video: GenerationVideo | null;
  /** The upstream's `error` field, any JSON, or null. */
  error: unknown;
  usage: Usage | null;
}

export enum UpstreamFailure {
  /** The upstream answered 4xx (other than 404 on poll and 429): the request itself is wrong or not allowed. */
  REJECTED = 'REJECTED',
  /** 429. `retryAfterMs` is set when the upstream sent `Retry-After`. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** 5xx, an unreadable error body, a connection that could not be made, or a timeout before anything was sent. */
  UNAVAILABLE = 'UNAVAILABLE',
  /** Poll only: the upstream does not know this id (404). */
  NOT_FOUND = 'NOT_FOUND',
  /**
   * Create only: the request was sent but no intact answer came back (timeout after sending,
   * connection dropped, 2xx with an unreadable body). The job may exist upstream.
   */
  OUTCOME_UNKNOWN = 'OUTCOME_UNKNOWN',
}

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    /** Safe to show a client: cleaned of secrets. */
    message: string,
    readonly httpStatus: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export type UpstreamEndpoint = 'create' | 'poll';

/** Observes every upstream HTTP call (for metrics). `outcome` is an HTTP status or a failure name. */
export type UpstreamCallObserver = (endpoint: UpstreamEndpoint, outcome: string, seconds: number) => void;

export interface UpstreamClient {
  /** POSTs the generation once; never retried. Throws `UpstreamError`. */
  create(input: GenerationInput): Promise<UpstreamJob>;
  /**
   * GETs the job's status, retrying transient failures a few times, each retry only with a token
   * from the upstream request budget. Throws `UpstreamError`.
   * `modelId` (the upstream model id) sends the poll to the path its create took.
   */
  get(upstreamId: string, modelId?: string): Promise<UpstreamJob>;
  /** Closes its connection pool; calls in flight finish first. */
  stop(): Promise<void>;
}
