/**
 * Pages of an owner's list (ids and versions only), kept until any of the owner's generations
 * changes. Only correct for a store whose every write to generations goes through this process: the
 * embedded PGlite database, which one gateway process owns. A PostgreSQL store is shared by several
 * instances, so it does not use this (another instance's write would not clear the page here).
 *
 * A page read that overlaps a write is not kept: every write bumps `changes`, and a page is kept
 * only if no write completed while it was being read.
 */
import type { GenerationKey, ListQuery } from './store';

/** Owners whose pages are kept; the least recently listed goes first. */
const OWNERS_KEPT = 1_000;
/** Distinct pages (cursor, filters, size) kept per owner; the oldest goes first. */
const PAGES_PER_OWNER = 20;

export class ListPageCache {
  private readonly owners = new Map<string, Map<string, readonly GenerationKey[]>>();
  private changes = 0;

  /** The page for `query`, from memory or from `read` (which is then kept). Callers must not modify it. */
  async page(query: ListQuery, read: () => Promise<GenerationKey[]>): Promise<readonly GenerationKey[]> {
    const key = pageKey(query);
    const pages = this.owners.get(query.owner);
    const kept = pages?.get(key);
    if (kept) {
      // Most recently listed owner last, so the first one is the one to drop.
      this.owners.delete(query.owner);
      this.owners.set(query.owner, pages!);
      return kept;
    }
    const seen = this.changes;
    const keys = await read();
    if (this.changes === seen) this.keep(query.owner, key, keys);
    return keys;
  }

  /** A write to `owner`'s generations completed (or failed halfway); null: owner unknown, forget every page. */
  changed(owner: string | null): void {
    this.changes++;
    if (owner === null) this.owners.clear();
    else this.owners.delete(owner);
  }

  private keep(owner: string, key: string, keys: readonly GenerationKey[]): void {
    let pages = this.owners.get(owner);
    if (!pages) {
      if (this.owners.size >= OWNERS_KEPT) this.owners.delete(this.owners.keys().next().value!);
      this.owners.set(owner, (pages = new Map<string, readonly GenerationKey[]>()));
    }
    if (pages.size >= PAGES_PER_OWNER) pages.delete(pages.keys().next().value!);
    pages.set(key, keys);
  }
}

function pageKey(q: ListQuery): string {
  return JSON.stringify([q.limit, q.before?.createdAt.toISOString() ?? null, q.before?.id ?? null, q.statuses ?? [], q.models ?? []]);
}
