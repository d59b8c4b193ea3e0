/**
 * The same tests on both media stores: a folder in a temporary directory, and a bucket on s3rver
 * (an S3-protocol server on 127.0.0.1: no S3 server can be installed here).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FolderMediaStore } from '../../../src/media/folder-media-store';
import type { MediaStore } from '../../../src/media/media-store';
import { S3MediaStore } from '../../../src/media/s3-media-store';
import { startS3Server, type S3Server } from '../../helpers/s3-server';

interface Harness {
  store: MediaStore;
  stop(): Promise<void>;
  /** Names of whatever the store holds, to show that a failed write left nothing. */
  leftovers(): Promise<string[]>;
}

async function folderHarness(): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgw-media-'));
  const store = new FolderMediaStore(dir);
  await store.start();
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [path.relative(dir, path.join(d, e.name))],
    );
  return { store, leftovers: () => Promise.resolve(walk(dir)), stop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
}

async function bucketHarness(): Promise<Harness> {
  const s3: S3Server = await startS3Server();
  // A small part size is not allowed (S3's minimum is 5 MiB): the 12 MiB file below takes three parts.
  const store = new S3MediaStore({ bucket: s3.bucket, prefix: 'media/', client: s3.client });
  const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const lister = new S3Client(s3.client);
  return {
    store,
    leftovers: async () => ((await lister.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((o) => o.Key!),
    stop: async () => {
      lister.destroy();
      store.stop();
      await s3.stop();
    },
  };
}

/** A body that sends `bytes` in 64 KiB chunks, then fails when `failAfter` bytes were sent. */
function body(bytes: Buffer, failAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) return this.destroy(new Error('connection reset'));
      if (sent >= bytes.length) return this.push(null);
      const chunk = bytes.subarray(sent, sent + 65_536);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

describe.each([
  ['a folder under the data directory', folderHarness],
  ['an S3 bucket (s3rver)', bucketHarness],
])('MediaStore on %s', (_name, start) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(() => h?.stop());

  it('stores a streamed file and reads it back whole, with its size and type', async () => {
    const bytes = randomBytes(300_000);
    await h.store.put('videos/a.mp4', body(bytes), 'video/mp4');
    expect(await h.store.head('videos/a.mp4')).toEqual({ size: 300_000, contentType: 'video/mp4' });
    const read = await h.store.read('videos/a.mp4');
    expect(read!.object).toEqual({ size: 300_000, contentType: 'video/mp4' });
    expect((await buffer(read!.body)).equals(bytes)).toBe(true);
  });

  it('reads a byte range, and knows the whole size', async () => {
    const bytes = randomBytes(10_000);
    await h.store.put('videos/b.mp4', body(bytes), 'video/mp4');
    const read = await h.store.read('videos/b.mp4', { start: 100, end: 1_099 });
    expect(read!.object.size).toBe(10_000);
    expect((await buffer(read!.body)).equals(bytes.subarray(100, 1_100))).toBe(true);
    const last = await h.store.read('videos/b.mp4', { start: 9_999, end: 9_999 });
    expect((await buffer(last!.body)).equals(bytes.subarray(9_999))).toBe(true);
  });

  it('takes a file larger than one upload part (12 MiB) intact', async () => {
    const bytes = randomBytes(12 * 1024 * 1024);
    await h.store.put('videos/big.mp4', body(bytes), 'video/mp4');
    const read = await h.store.read('videos/big.mp4');
    const got = await buffer(read!.body);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('answers null for a missing file, and deletes idempotently', async () => {
    expect(await h.store.head('videos/none.mp4')).toBeNull();
    expect(await h.store.read('videos/none.mp4')).toBeNull();
    await h.store.put('videos/gone.mp4', body(randomBytes(10)), 'video/mp4');
    await h.store.delete('videos/gone.mp4');
    expect(await h.store.head('videos/gone.mp4')).toBeNull();
    await expect(h.store.delete('videos/gone.mp4')).resolves.toBeUndefined();
  });

  it('leaves nothing behind when the body fails mid-way (also past the first upload part)', async () => {
    const before = await h.leftovers();
    await expect(h.store.put('videos/broken.mp4', body(randomBytes(200_000), 100_000), 'video/mp4')).rejects.toThrow();
    await expect(h.store.put('videos/broken-big.mp4', body(randomBytes(8 * 1024 * 1024), 6 * 1024 * 1024), 'video/mp4')).rejects.toThrow();
    expect(await h.store.head('videos/broken.mp4')).toBeNull();
    expect(await h.store.head('videos/broken-big.mp4')).toBeNull();
    expect((await h.leftovers()).filter((name: string) => !before.includes(name) && !name.startsWith('.partial'))).toEqual([]);
  });

  it('refuses keys that could leave its folder or prefix', async () => {
    for (const key of ['../x', 'a/../../x', '/abs', '.hidden', 'a//b', '']) {
      await expect(h.store.put(key, body(randomBytes(1)), 'video/mp4')).rejects.toThrow('is not a valid key');
    }
  });

  it('hands out a presigned URL that serves the file only with a bucket', async () => {
    await h.store.put('videos/c.mp4', body(Buffer.from('hello')), 'video/mp4');
    const url = await h.store.presignedUrl('videos/c.mp4', 60);
    if (h.store.kind === 'folder') return expect(url).toBeNull();
    const answer = await fetch(url!);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('hello');
    // That a bucket refuses a tampered presigned URL is S3's part; s3rver does not check it.
  });
});
