/**
 * A pause shared by everything that calls the upstream. All owners share one upstream key, so a
 * 429 for one is a 429 for all: while the pause lasts, the poller waits and creates are refused
 * with RATE_LIMITED instead of being sent.
 */
export class UpstreamBackoff {
  private until = 0;
  private consecutive = 0;

  constructor(
    /** Pause after a 429 without Retry-After, doubled on each consecutive one, in ms. */
    private readonly baseMs = 1_000,
    /** Longest pause, in ms. */
    private readonly maxMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a 429; `retryAfterMs` is the upstream's own hint when it gave one. */
  trip(retryAfterMs: number | null): void {
    const pause = retryAfterMs ?? Math.min(this.maxMs, this.baseMs * 2 ** this.consecutive);
    this.consecutive++;
    this.until = Math.max(this.until, this.now() + Math.min(pause, this.maxMs));
  }

  /** Records a call that was not rate limited. */
  reset(): void {
    this.consecutive = 0;
  }

  /** Adopts a pause decided elsewhere (another instance), if it lasts longer than the current one. */
  pauseUntil(epochMs: number): void {
    this.until = Math.max(this.until, epochMs);
  }

  /** When the current pause ends, as epoch ms (in the past when there is none). */
  pausedUntil(): number {
    return this.until;
  }

  /** Milliseconds left in the pause, 0 when none. */
  remainingMs(): number {
    return Math.max(0, this.until - this.now());
  }
}
