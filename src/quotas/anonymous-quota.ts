/**
 * The budget of clients without a valid credential, per client address: anonymous HTTP requests,
 * refused credentials, and WebSocket connections that fail to authenticate. Anyone can send those,
 * so without it one address could spend the gateway's CPU (parsing, validation, key lookups) freely.
 * Same counters as the owner quotas: memory by default, Redis when given (shared by instances).
 */
import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { consumeOrRefuse, createRateLimiter } from './rate-limiter';

export class AnonymousQuota {
  private readonly limiter: RateLimiterAbstract | null;

  constructor(
    /** Operations per address per minute; 0 = unlimited. */
    private readonly perMinute: number,
    redis?: Redis,
  ) {
    this.limiter = perMinute > 0 ? createRateLimiter({ points: perMinute, durationSeconds: 60, keyPrefix: 'quota:anonymous', redis }) : null;
  }

  /** Takes one operation from `address`'s budget; throws RATE_LIMITED (with retryAfterSeconds) over it. */
  async request(address: string): Promise<void> {
    if (this.limiter) await consumeOrRefuse(this.limiter, address, `at most ${this.perMinute} operations per minute without a valid credential`);
  }
}
