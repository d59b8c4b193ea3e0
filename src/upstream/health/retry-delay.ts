/**
 * How long to wait before retrying an upstream call: the upstream's own `Retry-After` when it
 * sends one, otherwise an exponential delay. Only polls retry (a create is sent at most once).
 */

/**
 * Parses `Retry-After` (delta-seconds or HTTP-date) into milliseconds from `now`, or null.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Date.parse accepts bare numbers like "-3" as years; an HTTP-date always has a weekday or month name.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Equal jitter: at least half the exponential delay, so retries never collapse to zero. */
export function retryDelayMs(retry: number, base: number, max: number): number {
  const ceiling = Math.min(max, base * 2 ** retry);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
