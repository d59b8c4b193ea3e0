import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { checkMediaKey, type ByteRange, type MediaObject, type MediaStore } from './media-store';

/** Beside each file: its content type, which a plain file system does not keep. */
const META_SUFFIX = '.meta.json';
/** Unfinished writes, renamed into place when complete, so a reader never sees half a file. */
const PARTIAL_DIR = '.partial';

/**
 * Files in a folder (by default DATA_DIR/media): the embedded default, for one instance. A write goes
 * to a temporary file in the same folder tree and is renamed into place once complete (rename is
 * atomic on one file system); the temporary files of a process killed mid-write are removed at start.
 */
export class FolderMediaStore implements MediaStore {
  readonly kind = 'folder';

  constructor(private readonly root: string) {}

  /** Creates the folder and removes what a killed process left half-written. */
  async start(): Promise<void> {
    await rm(path.join(this.root, PARTIAL_DIR), { recursive: true, force: true });
    await mkdir(path.join(this.root, PARTIAL_DIR), { recursive: true });
  }

  async put(key: string, body: Readable, contentType: string): Promise<void> {
    const file = this.file(key);
    const partial = path.join(this.root, PARTIAL_DIR, randomBytes(8).toString('hex'));
    await mkdir(path.dirname(file), { recursive: true });
    await mkdir(path.dirname(partial), { recursive: true });
    try {
      await pipeline(body, createWriteStream(partial, { flags: 'wx' }));
      // The type first: a file without it is not served (head answers null).
      await writeFile(file + META_SUFFIX, JSON.stringify({ contentType }));
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async head(key: string): Promise<MediaObject | null> {
    const file = this.file(key);
    try {
      const [stats, meta] = await Promise.all([stat(file), readFile(file + META_SUFFIX, 'utf8')]);
      const { contentType } = JSON.parse(meta) as { contentType: string };
      return { size: stats.size, contentType };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<{ object: MediaObject; body: Readable } | null> {
    const object = await this.head(key);
    if (!object) return null;
    const body = createReadStream(this.file(key), range ? { start: range.start, end: range.end } : {});
    return { object, body };
  }

  async delete(key: string): Promise<void> {
    const file = this.file(key);
    await rm(file, { force: true });
    await rm(file + META_SUFFIX, { force: true });
  }

  presignedUrl(): Promise<string | null> {
    return Promise.resolve(null);
  }

  private file(key: string): string {
    return path.join(this.root, ...checkMediaKey(key).split('/'));
  }
}
