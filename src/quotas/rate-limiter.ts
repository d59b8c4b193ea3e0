/**
 * Fixed-window counters per key (rate-limiter-flexible): in this process's memory by default, in
 * Redis when a client is given, so that several gateway instances share one budget per owner.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ErrorCode, GatewayError } from '../errors';

export interface RateLimiterOptions {
  /** Allowed uses per window. */
  points: number;
  /** Window length, in seconds. */
  durationSeconds: number;
  /** Namespaces the counters (one per kind of limit), e.g. `quota:creates`. */
  keyPrefix: string;
  /**
   * Shared counters in Redis. Default: none (memory of this process). When Redis fails, the
   * in-memory limiter stands in (rate-limiter-flexible's insurance), so an outage of Redis never
   * blocks or frees everyone.
   */
  redis?: Redis;
}

export function createRateLimiter(o: RateLimiterOptions): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points: o.points, duration: o.durationSeconds, keyPrefix: o.keyPrefix });
  if (!o.redis) return memory;
  return new RateLimiterRedis({
    storeClient: o.redis,
    points: o.points,
    duration: o.durationSeconds,
    keyPrefix: `vgw:${o.keyPrefix}`,
    insuranceLimiter: memory,
  });
}

/** Takes one point for `key`, or throws RATE_LIMITED saying when to come back. */
export async function consumeOrRefuse(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    throw rateLimited(what, rejection.msBeforeNext);
  }
}

export function rateLimited(what: string, retryAfterMs: number): GatewayError {
  return new GatewayError(ErrorCode.RATE_LIMITED, `Rate limit exceeded: ${what}`, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}
