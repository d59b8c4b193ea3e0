/**
 * Per-owner limits: creations per minute, generations in flight at once, and GraphQL operations
 * per second. They protect the shared upstream key (and its bill) from one owner's runaway loop
 * or leaked credentials, and are checked before anything is sent upstream.
 */
import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { ErrorCode, GatewayError } from '../errors';
import type { CreateQuota } from '../generations/service';
import type { GenerationStatistics } from '../store/store';
import { consumeOrRefuse, createRateLimiter } from './rate-limiter';

export interface OwnerQuotaLimits {
  /** Creations per owner per minute. 0 = unlimited. */
  createsPerMinute: number;
  /** Generations of one owner not yet ended (QUEUED or GENERATING). 0 = unlimited. */
  maxInFlight: number;
  /** GraphQL operations per owner per second. 0 = unlimited. */
  requestsPerSecond: number;
}

/** The three limits, as named in metrics. */
export const QUOTA_KINDS = ['creates_per_minute', 'in_flight', 'requests_per_second', 'subscriptions'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

export class OwnerQuotas implements CreateQuota {
  private readonly creates: RateLimiterAbstract | null;
  private readonly requests: RateLimiterAbstract | null;

  constructor(
    private readonly limits: OwnerQuotaLimits,
    private readonly store: Pick<GenerationStatistics, 'countInFlight'>,
    /** Shares the counters between instances. Default: memory of this process. */
    redis?: Redis,
    /** Called for every refusal, with the limit that refused (for metrics). Default: none. */
    private readonly onRefused?: (kind: QuotaKind) => void,
  ) {
    this.creates =
      limits.createsPerMinute > 0
        ? createRateLimiter({ points: limits.createsPerMinute, durationSeconds: 60, keyPrefix: 'quota:creates', redis })
        : null;
    this.requests =
      limits.requestsPerSecond > 0
        ? createRateLimiter({ points: limits.requestsPerSecond, durationSeconds: 1, keyPrefix: 'quota:requests', redis })
        : null;
  }

  /** One GraphQL operation (an HTTP request or a WebSocket subscribe); throws RATE_LIMITED over the limit. */
  async request(owner: string): Promise<void> {
    if (this.requests)
      await this.counted(
        'requests_per_second',
        consumeOrRefuse(this.requests, owner, `at most ${this.limits.requestsPerSecond} operations per second`),
      );
  }

  async admitCreate(owner: string): Promise<void> {
    if (this.creates)
      await this.counted(
        'creates_per_minute',
        consumeOrRefuse(this.creates, owner, `at most ${this.limits.createsPerMinute} generations per minute`),
      );
  }

  /** Gives back the point of a create that was refused after admission (too many in flight). */
  async refundCreate(owner: string): Promise<void> {
    await this.creates?.reward(owner, 1);
  }

  /**
   * Counts the owner's unfinished generations in the store (so it holds across instances),
   * including the one just inserted. Concurrent creates may each see the others and all be
   * refused, but never let the count past the limit.
   */
  async checkInFlight(owner: string): Promise<void> {
    if (this.limits.maxInFlight <= 0) return;
    const inFlight = await this.store.countInFlight(owner);
    if (inFlight > this.limits.maxInFlight) {
      this.onRefused?.('in_flight');
      throw new GatewayError(
        ErrorCode.RATE_LIMITED,
        `Too many generations in progress: at most ${this.limits.maxInFlight} at once; wait for one to end`,
        // No window to wait out: a slot frees when a generation ends, typically within minutes.
        { retryAfterSeconds: 10, limit: this.limits.maxInFlight },
      );
    }
  }

  private async counted(kind: QuotaKind, check: Promise<void>): Promise<void> {
    try {
      await check;
    } catch (error) {
      if (error instanceof GatewayError && error.code === ErrorCode.RATE_LIMITED) this.onRefused?.(kind);
      throw error;
    }
  }
}
