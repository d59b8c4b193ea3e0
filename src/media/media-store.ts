import type { Readable } from 'node:stream';

/** What a store knows about one stored file. */
export interface MediaObject {
  /** Bytes. */
  size: number;
  contentType: string;
}

/** An inclusive byte range within a file, already checked against its size. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where finished videos are kept: a folder under the data directory (FolderMediaStore) or an
 * S3-compatible bucket (S3MediaStore). Keys are relative paths of plain segments (`mediaKey`), chosen
 * by the gateway, never by a client. Writes are all or nothing: a body that fails leaves no file.
 */
export interface MediaStore {
  /** Which implementation: shown in logs and readiness. */
  readonly kind: 'folder' | 's3';
  /** Streams `body` to `key`, replacing what was there. Rejects, leaving nothing at `key`, when the body errors. */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** The stored file's facts, or null when there is none. */
  head(key: string): Promise<MediaObject | null>;
  /** The file's bytes (the whole file, or `range`), or null when there is none. */
  read(key: string, range?: ByteRange): Promise<{ object: MediaObject; body: Readable } | null>;
  /** Removes the file; removing a missing file is not an error. */
  delete(key: string): Promise<void>;
  /**
   * A URL that serves the file directly for `expiresInSeconds` (a bucket's presigned GET), or null
   * when this store has none and the gateway serves the bytes itself.
   */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null>;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Checks a key: `/`-separated segments of letters, digits, `._-`, none starting with a dot (no `..`, no hidden files). */
export function checkMediaKey(key: string): string {
  if (key.length === 0 || key.length > 512 || !key.split('/').every((segment) => SEGMENT.test(segment))) {
    throw new Error(`media store: ${JSON.stringify(key)} is not a valid key`);
  }
  return key;
}
