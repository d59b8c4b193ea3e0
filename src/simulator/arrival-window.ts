/**
 * The most requests that arrived within any window of `windowMs`, kept as requests arrive: only the
 * arrival times of the last window are held (memory bounded by the arrival rate), no log of them all.
 *
 * Windows are half-open, [t, t + windowMs): two arrivals exactly `windowMs` apart are never in one
 * window, as a token bucket of `rate`/s lets `burst + rate` requests through in any 1 s of [t, t + 1 s)
 * but the next token's arrival at t + 1 s starts the next second. The clock is monotonic
 * (`performance.now()`), so a wall-clock step cannot make a window look longer or shorter.
 */
export class ArrivalWindow {
  /** Arrival times within the last window, oldest first; `head` is the first still in it. */
  private times: number[] = [];
  private head = 0;
  private most = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records one arrival, now. */
  arrive(): void {
    const at = this.now();
    while (this.head < this.times.length && this.times[this.head]! <= at - this.windowMs) this.head += 1;
    // Compact once the dropped part is most of the array, so memory follows the arrivals of one window.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    this.times.push(at);
    this.most = Math.max(this.most, this.times.length - this.head);
  }

  /** The most arrivals seen within one window since construction (or `reset`). */
  max(): number {
    return this.most;
  }

  reset(): void {
    this.times = [];
    this.head = 0;
    this.most = 0;
  }
}
