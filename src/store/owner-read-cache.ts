/**
 * Reads of one owner's generations (list pages as ids and versions, usage reports), kept until any of
 * the owner's generations changes. Only correct for a store whose every write to generations goes
 * through this process: the embedded PGlite database, which one gateway process owns. A PostgreSQL
 * store is shared by several instances, so it does not use this (another instance's write would not
 * clear the read here).
 *
 * Usage is kept for the same reason as pages: the embedded database runs one query at a time, so an
 * owner calling `usage` back to back made every other owner's query wait behind each report
 * (BENCHMARKS.md, data growth, head-of-line). A report depends only on the owner's generations (and
 * `since`), so a kept one is exact until the owner's next write.
 *
 * A read that overlaps a write is not kept: every write bumps `changes`, and a read is kept only if no
 * write completed while it ran.
 */

export interface OwnerReadCacheOptions {
  /** Owners whose reads are kept; the least recently read goes first. Default 200 (EMBEDDED_READ_CACHE_OWNERS). */
  owners?: number;
  /**
   * Distinct reads (query kind, cursor, filters, size, since) kept per owner; the oldest goes first.
   * Default 20 (EMBEDDED_READ_CACHE_READS_PER_OWNER). A read is one usage report or one list page: at
   * most 100 ids and versions, about 10 KB of heap, so the defaults hold at most ~40 MB however reads go.
   */
  readsPerOwner?: number;
}

const DEFAULT_READ_CACHE_OWNERS = 200;
const DEFAULT_READ_CACHE_READS_PER_OWNER = 20;

export class OwnerReadCache {
  private readonly owners = new Map<string, Map<string, unknown>>();
  private changes = 0;
  private readonly ownersKept: number;
  private readonly readsPerOwner: number;

  constructor(options: OwnerReadCacheOptions = {}) {
    this.ownersKept = options.owners ?? DEFAULT_READ_CACHE_OWNERS;
    this.readsPerOwner = options.readsPerOwner ?? DEFAULT_READ_CACHE_READS_PER_OWNER;
  }

  /**
   * The answer named `key` for `owner`, from memory or from `read` (which is then kept). Callers must
   * not modify it: the same object is handed to every later caller.
   */
  async read<T>(owner: string, key: string, read: () => Promise<T>): Promise<T> {
    const reads = this.owners.get(owner);
    if (reads?.has(key)) {
      // Most recently read owner last, so the first one is the one to drop.
      this.owners.delete(owner);
      this.owners.set(owner, reads);
      return reads.get(key) as T;
    }
    const seen = this.changes;
    const value = await read();
    if (this.changes === seen) this.keep(owner, key, value);
    return value;
  }

  /** A write to `owner`'s generations completed (or failed halfway); null: owner unknown, forget every read. */
  changed(owner: string | null): void {
    this.changes++;
    if (owner === null) this.owners.clear();
    else this.owners.delete(owner);
  }

  private keep(owner: string, key: string, value: unknown): void {
    if (this.ownersKept <= 0 || this.readsPerOwner <= 0) return;
    let reads = this.owners.get(owner);
    if (!reads) {
      if (this.owners.size >= this.ownersKept) this.owners.delete(this.owners.keys().next().value!);
      this.owners.set(owner, (reads = new Map<string, unknown>()));
    }
    if (reads.size >= this.readsPerOwner) reads.delete(reads.keys().next().value!);
    reads.set(key, value);
  }
}
