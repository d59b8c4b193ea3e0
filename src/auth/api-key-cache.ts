/**
 * Successful API-key lookups, kept in this process for a short time so that a request does not
 * query the store for its key every time (the lookup was most of a small read's cost).
 *
 * Only keys that were found and not revoked are kept, by their SHA-256 hash (never the key).
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

  /** Forgets every lookup, and any still in flight. */
  clear(): void {
    this.entries.clear();
    this.clears++;
  }

  get size(): number {
    return this.entries.size;
  }
}
