import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../config';
import { FolderMediaStore } from './folder-media-store';
import type { MediaStore } from './media-store';

/** The configured media store, ready to use, with what stops it; null when MEDIA_STORE=off. */
export async function openMediaStore(media: Config['media']): Promise<{ store: MediaStore; stop: () => Promise<void> } | null> {
  if (!media) return null;
  const s = media.store;
  if (s.kind === 's3') {
    // The AWS SDK is loaded only when a bucket is configured: it is most of the optional modules' memory.
    const { S3MediaStore } = await import('./s3-media-store.js');
    const store = new S3MediaStore({
      bucket: s.bucket,
      prefix: s.prefix,
      client: { region: s.region, endpoint: s.endpoint ?? undefined, forcePathStyle: s.forcePathStyle },
    });
    return { store, stop: () => Promise.resolve(store.stop()) };
  }
  // An in-memory gateway keeps its videos no longer than itself.
  const temporary = s.dir === null ? await mkdtemp(path.join(tmpdir(), 'vgw-media-')) : null;
  const store = new FolderMediaStore(s.dir ?? temporary!);
  await store.start();
  return { store, stop: () => (temporary ? rm(temporary, { recursive: true, force: true }) : Promise.resolve()) };
}
