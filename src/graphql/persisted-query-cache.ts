/**
 * The store of Apollo's automatic persisted queries (APQ), bounded by the bytes it really holds.
 *
 * Apollo's default keeps APQ entries in its shared cache, charged by the text's length alone: the
 * `apq:<64 hex>` key and the entry's bookkeeping are free, so a flood of distinct tiny documents
 * (`{a:__typename}`, `{b:__typename}`…) held several times the 30 MiB it was charged. Here an entry
 * costs its key and text as UTF-16 plus a fixed overhead, so the budget is what memory pays.
 */
import { LRUCache } from 'lru-cache';

/**
 * Heap bytes of one LRU entry beyond its strings (the map slot, the list links, two string headers),
 * rounded up from what Node 20 shows.
 */
const ENTRY_OVERHEAD_BYTES = 160;

export function persistedQueryBytes(key: string, text: string): number {
  return (key.length + text.length) * 2 + ENTRY_OVERHEAD_BYTES;
}

/** Apollo's `persistedQueries.cache` (its KeyValueCache: async get/set/delete). */
export class PersistedQueryCache {
  private readonly lru: LRUCache<string, string>;

  constructor(readonly maxBytes: number) {
    this.lru = new LRUCache<string, string>({ maxSize: Math.max(1, maxBytes), sizeCalculation: (text, key) => persistedQueryBytes(key, text) });
  }

  /** Bytes the entries are charged for (at most `maxBytes`). */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get size(): number {
    return this.lru.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.lru.get(key);
  }

  // Apollo passes a TTL only when configured with one; the gateway does not, so entries live until evicted.
  async set(key: string, text: string): Promise<void> {
    this.lru.set(key, text);
  }

  async delete(key: string): Promise<boolean> {
    return this.lru.delete(key);
  }
}
