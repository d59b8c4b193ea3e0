/**
 * Successful API-key lookups, kept in this process for a short time so that a request does not
 * query the store for its key every time (the lookup was most of a small read's cost).
 *
 * Only keys that were found and not revoked are kept, by their SHA-256 hash (never the key).
 * Concurrent misses for one key share one store lookup: when an entry expires under load, every
 * request in flight on that key would otherwise query the store at once, and each waits for all the
 * queries queued ahead of it (50 connections: 50 queries every TTL, the slowest 1 % of the
 * benchmark's by-id requests; BENCHMARKS.md, HTTP).
 * A revocation through this process (`revokeApiKey` with this cache) clears the cache at once; one
 * made elsewhere (the key CLI, another instance on the same PostgreSQL) takes effect here within
 * the TTL.
 */
export interface ApiKeyCacheOptions {
  /** How long a successful lookup is trusted, in ms. 0 turns the cache off. */
  ttlMs: number;
  /** Most keys held; the oldest entry goes first. Default 10 000. */
  maxEntries?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

export class ApiKeyCache {
  private readonly entries = new Map<string, { owner: string; expiresAt: number }>();
  /** Store lookups under way, by hash, for the requests that miss while one runs. */
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private clears = 0;

  constructor(o: ApiKeyCacheOptions) {
    this.ttlMs = o.ttlMs;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** The owner of the key with this hash, if a lookup found it less than the TTL ago. */
  get(hash: string): string | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.owner;
  }

  /**
   * The owner of the key with this hash from `lookup` (null: unknown or revoked), sharing a lookup
   * already under way for the same hash; a found owner is kept. With a TTL of 0 every call looks up.
   */
  lookup(hash: string, lookup: () => Promise<string | null>): Promise<string | null> {
    if (this.ttlMs <= 0) return lookup();
    const running = this.inFlight.get(hash);
    if (running) return running;
    const epoch = this.clears;
    const shared = lookup()
      .then((owner) => {
        if (owner !== null) this.set(hash, owner, epoch);
        return owner;
      })
      .finally(() => {
        if (this.inFlight.get(hash) === shared) this.inFlight.delete(hash);
      });
    this.inFlight.set(hash, shared);
    return shared;
  }

  /**
   * Marks the start of a store lookup; pass the value to `set`. A clear in between (a revocation
   * while the lookup was in flight) makes that `set` a no-op, so a stale answer is never kept.
   */
  epoch(): number {
    return this.clears;
  }

  /** Keeps a successful lookup that started at `epoch`. */
  set(hash: string, owner: string, epoch: number): void {
    if (this.ttlMs <= 0 || epoch !== this.clears) return;
    this.entries.delete(hash);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { owner, expiresAt: this.now() + this.ttlMs });
  }

  /** Forgets every lookup, and any still in flight (a later miss starts a new one). */
  clear(): void {
    this.entries.clear();
    this.inFlight.clear();
    this.clears++;
  }

  get size(): number {
    return this.entries.size;
  }
}
