/**
 * Generations that have ended, kept in memory by owner and id: an ended generation never changes
 * again (the poller only claims in-flight ones, a cancel of an ended one is a no-op, and every
 * change is conditional on the version it read), so reading it again from the store is wasted work.
 * Repeated reads of finished results (clients checking a job, the playground) then cost no query.
 * Generations still in flight, or whose video is still being copied, are never kept: their reads
 * always see the store.
 */
import { isSettled, type Generation } from '../model/generation';

/** Most ended generations kept; the least recently read goes first. */
export const FINISHED_GENERATIONS_KEPT = 10_000;

export class FinishedGenerations {
  private readonly entries = new Map<string, Generation>();

  constructor(private readonly maxEntries = FINISHED_GENERATIONS_KEPT) {}

  get(owner: string, id: string): Generation | undefined {
    const key = keyOf(owner, id);
    const g = this.entries.get(key);
    if (g) {
      this.entries.delete(key);
      this.entries.set(key, g);
    }
    return g;
  }

  /** Keeps `g` if it has ended; does nothing otherwise. */
  remember(g: Generation): void {
    if (!isSettled(g) || this.maxEntries <= 0) return;
    const key = keyOf(g.owner, g.id);
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, g);
  }

  /** Drops the entry (a deleted generation). */
  forget(owner: string, id: string): void {
    this.entries.delete(keyOf(owner, id));
  }

  /** Drops every entry (changes elsewhere may have been missed). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function keyOf(owner: string, id: string): string {
  return `${owner}\n${id}`;
}
