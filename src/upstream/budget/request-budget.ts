/**
 * The upstream request budget: one token bucket for every poll and create sent with the shared
 * upstream key, so that no burst exceeds `burst` requests and no stretch of time more than
 * `burst + ratePerSecond × seconds`.
 *
 * The bucket starts EMPTY: a gateway that restarts with thousands of due generations ramps up at the
 * budget's rate instead of sending its burst at once (and in Redis, a bucket no instance has touched
 * for a while is empty again for the same reason).
 *
 * Two ways to spend, because creates and polls behave differently:
 * - polls `take` what is there now and never wait (the poller claims only as many generations as it
 *   got tokens for, and gives back what it could not use);
 * - a create `reserve`s one token, borrowing up to `maxWaitMs` of future tokens, and waits for its
 *   slot; a create that would wait longer is refused before anything is stored or sent. Creates thus
 *   go ahead of polls: a borrowed token is one the poller cannot take.
 *
 * Where the guarantee holds: the bucket counts a request when its token is spent. The poller takes its
 * tokens before a store query (the claim) and a create books its token before its store writes; both
 * `rebook` right before sending, so they are counted as they leave and cannot bunch with the tokens that
 * came meanwhile. A poll retry books its token before its backoff and rebooks it when the backoff ends
 * (see README, "What is guaranteed").
 */

export interface RequestBudgetSettings {
  /** Requests per second the bucket refills with; 0 turns the budget off. */
  ratePerSecond: number;
  /** Most tokens the bucket holds: the largest burst. */
  burst: number;
}

/** What a `take` got. */
export interface Taken {
  granted: number;
  /** When `granted` is 0: ms until the next token (a hint for the poller's sleep). */
  retryInMs: number;
}

/** What a `reserve` got: the wait before the slot, or a refusal with the wait it would have needed. */
export type Reservation = { ok: true; waitMs: number } | { ok: false; retryInMs: number };

export interface RequestBudget {
  readonly settings: RequestBudgetSettings;
  /** Takes up to `wanted` tokens available now, never waiting. */
  take(wanted: number): Promise<Taken>;
  /** Gives back tokens taken but not used (capped at `burst`). */
  refund(tokens: number): Promise<void>;
  /** Books one token for a request to be sent `waitMs` from now, if that is at most `maxWaitMs`. */
  reserve(maxWaitMs: number): Promise<Reservation>;
  /**
   * Counts `tokens` taken (or booked) earlier as spent now, right before their requests are sent: the
   * bucket becomes what it would be had they been taken only now. That differs only when the bucket
   * refilled to `burst` meanwhile (the refill stops at `burst`, so tokens taken earlier were "forgiven"):
   * then it holds `burst - tokens`. It never holds more than before, so no one else gains by it.
   */
  rebook(tokens: number): Promise<void>;
}

/** The bucket's arithmetic, shared by the in-process budget and (as Lua) by the Redis one. */
export class TokenBucket {
  private tokens = 0;
  private at: number;

  constructor(
    readonly settings: RequestBudgetSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now();
  }

  take(wanted: number): Taken {
    if (wanted <= 0) return { granted: 0, retryInMs: 0 };
    this.refill();
    // A reservation's debt leaves the bucket below zero: nothing to grant then (and nothing to "give back").
    const granted = Math.max(0, Math.min(wanted, Math.floor(this.tokens)));
    this.tokens -= granted;
    return { granted, retryInMs: granted > 0 ? 0 : this.msUntil(1) };
  }

  refund(tokens: number): void {
    if (tokens <= 0) return;
    this.refill();
    this.tokens = Math.min(this.settings.burst, this.tokens + tokens);
  }

  rebook(tokens: number): void {
    if (tokens <= 0) return;
    this.refill();
    this.tokens = Math.min(this.settings.burst, this.tokens + tokens) - tokens;
  }

  reserve(maxWaitMs: number): Reservation {
    this.refill();
    const waitMs = this.msUntil(1);
    if (waitMs > maxWaitMs) return { ok: false, retryInMs: waitMs };
    // May go negative: the debt is future tokens, paid back by the refill before anyone else gets one.
    this.tokens -= 1;
    return { ok: true, waitMs };
  }

  private refill(): void {
    const now = this.now();
    if (now > this.at) this.tokens = Math.min(this.settings.burst, this.tokens + ((now - this.at) * this.settings.ratePerSecond) / 1000);
    this.at = Math.max(this.at, now);
  }

  private msUntil(tokens: number): number {
    return Math.max(0, Math.ceil(((tokens - this.tokens) * 1000) / this.settings.ratePerSecond));
  }
}

/** The budget in this process's memory: right for one instance (or when Redis is away). */
export class LocalRequestBudget implements RequestBudget {
  private readonly bucket: TokenBucket;

  constructor(
    readonly settings: RequestBudgetSettings,
    now: () => number = Date.now,
  ) {
    this.bucket = new TokenBucket(settings, now);
  }

  take(wanted: number): Promise<Taken> {
    return Promise.resolve(this.bucket.take(wanted));
  }

  refund(tokens: number): Promise<void> {
    this.bucket.refund(tokens);
    return Promise.resolve();
  }

  reserve(maxWaitMs: number): Promise<Reservation> {
    return Promise.resolve(this.bucket.reserve(maxWaitMs));
  }

  rebook(tokens: number): Promise<void> {
    this.bucket.rebook(tokens);
    return Promise.resolve();
  }
}

/** No budget (rate 0): everything is granted at once. */
export class UnlimitedRequestBudget implements RequestBudget {
  readonly settings: RequestBudgetSettings = { ratePerSecond: 0, burst: 0 };

  take(wanted: number): Promise<Taken> {
    return Promise.resolve({ granted: Math.max(0, wanted), retryInMs: 0 });
  }

  refund(): Promise<void> {
    return Promise.resolve();
  }

  reserve(): Promise<Reservation> {
    return Promise.resolve({ ok: true, waitMs: 0 });
  }

  rebook(): Promise<void> {
    return Promise.resolve();
  }
}
