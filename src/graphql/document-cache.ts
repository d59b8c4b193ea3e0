/**
 * Parsed, validated documents kept for reuse, bounded by the bytes they really hold.
 *
 * Apollo's default document store charges a document for `JSON.stringify(document)`, which leaves
 * out the source text every AST node's `loc` keeps alive: a tiny query behind a 900 KB comment was
 * charged a few hundred bytes while holding the whole comment, and 30 MiB of "size" held gigabytes.
 * Here an entry costs its source text plus an estimate of its AST, and entries are keyed by a hash
 * of the text, so keys hold no source either.
 */
import { createHash } from 'node:crypto';
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * Heap bytes per byte of a document's JSON form, measured on Node 20 with the gateway's own
 * queries (about 3.9; node objects, arrays and `loc`s cost more than their JSON text).
 */
const AST_BYTES_PER_JSON_BYTE = 4;

/** What one cached document costs: its source text (UTF-16 in the worst case) plus its AST. */
export function documentBytes(document: DocumentNode): number {
  const source = document.loc?.source.body.length ?? 0;
  return source * 2 + JSON.stringify(document).length * AST_BYTES_PER_JSON_BYTE;
}

/** A key that holds no source text: the text's SHA-256. */
export function documentKey(query: string): string {
  return createHash('sha256').update(query).digest('base64url');
}

/**
 * An LRU of documents within `maxBytes`. Also Apollo's `documentStore` (its `KeyValueCache`
 * interface: async get/set/delete); a document larger than the whole budget is not kept.
 */
export class DocumentCache {
  private readonly lru: LRUCache<string, DocumentNode> | null;

  constructor(readonly maxBytes: number) {
    this.lru = maxBytes > 0 ? new LRUCache<string, DocumentNode>({ maxSize: maxBytes, sizeCalculation: (d) => Math.max(1, documentBytes(d)) }) : null;
  }

  /** Bytes the cached documents are charged for (at most `maxBytes`). */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  peek(key: string): DocumentNode | undefined {
    return this.lru?.get(key);
  }

  put(key: string, document: DocumentNode): void {
    this.lru?.set(key, document);
  }

  async get(key: string): Promise<DocumentNode | undefined> {
    return this.peek(key);
  }

  async set(key: string, document: DocumentNode): Promise<void> {
    this.put(key, document);
  }

  async delete(key: string): Promise<boolean> {
    return this.lru?.delete(key) ?? false;
  }
}
