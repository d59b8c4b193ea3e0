/**
 * Gateway settings that turn off every limit a benchmark's own load would hit: one owner drives every
 * request, so per-owner quotas would refuse the load itself; the breaker has nothing to do against a
 * healthy simulator; the upstream request budget would cap the load too (bench/poller-scale.ts measures
 * it on its own).
 */
export const LOAD_LIMITS_OFF = {
  QUOTA_CREATES_PER_MINUTE: '0',
  QUOTA_MAX_IN_FLIGHT: '0',
  QUOTA_REQUESTS_PER_SECOND: '0',
  QUOTA_MAX_SUBSCRIPTIONS: '0',
  UPSTREAM_BREAKER_FAILURES: '0',
  UPSTREAM_REQUESTS_PER_SECOND: '0',
} as const;
