/**
 * Two instances' retention sweeps at once, on one PostgreSQL and one bucket (s3rver, an S3-protocol
 * server: no S3 server can be installed here), each with its own connection pool as two gateway
 * processes have. Both sweeps are held until each has read the same expired copies, so both remove
 * the same files and both try to mark the same rows: each copy must end EXPIRED once (one new
 * version, published by one instance), with nothing left in the bucket and no error.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import pino from 'pino';
import { mediaKey } from '../../src/generations/media-copier';
import { MediaRetention } from '../../src/generations/media-retention';
import { S3MediaStore } from '../../src/media/s3-media-store';
import { GenerationStatus, MediaCopyState, type Generation } from '../../src/model/generation';
import { createPgStore } from '../../src/store/pg-store';
import type { Store } from '../../src/store/store';
import { within } from '../helpers/within';
import { useS3Server } from '../helpers/s3-server';
import { describeWithServices, startPostgres, type PostgresServer } from '../helpers/services';

const COPIES = 20;
const HOUR = 3_600_000;

describeWithServices('retention sweeps of two instances at once', () => {
  let postgres: PostgresServer;
  const s3 = useS3Server();
  let stores: [Store, Store];
  let media: S3MediaStore;

  beforeAll(async () => {
    postgres = await startPostgres();
    // One after the other: the first applies the migrations.
    const a = createPgStore({ connectionString: postgres.url });
    await a.start();
    const b = createPgStore({ connectionString: postgres.url });
    await b.start();
    stores = [a, b];
    media = new S3MediaStore({ bucket: s3.bucket, prefix: '', client: s3.client });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled((stores ?? []).map((s) => s.stop()));
    media?.stop();
    await postgres?.destroy();
  }, 60_000);

  /** A completed generation whose copy is STORED (its file in the bucket), as the copier leaves it. */
  async function storedCopy(store: Store): Promise<Generation> {
    const now = new Date();
    const { generation } = await store.insertGeneration({
      id: randomUUID(),
      owner: 'alice',
      input: { model: 'google/veo-3.0-fast', prompt: 'kept a while' },
      inputHash: 'retention-instances',
      idempotencyKey: null,
      status: GenerationStatus.QUEUED,
      createdAt: now,
      deadlineAt: new Date(now.getTime() + HOUR),
    });
    const video = { url: `https://cdn.example.com/${generation.id}.mp4`, contentType: 'video/mp4', fileName: null, sizeBytes: null };
    await store.updateGeneration({
      id: generation.id,
      expectedVersion: 1,
      change: { status: GenerationStatus.COMPLETED, video: { ...video, copy: { state: MediaCopyState.PENDING } }, completedAt: now },
      at: now,
    });
    const [job] = await store.claimMediaCopies('copier', now, 60_000, 1);
    expect(job?.generationId).toBe(generation.id);
    const bytes = Buffer.from(`video of ${generation.id}`);
    await media.put(mediaKey(generation.id), Readable.from([bytes]), 'video/mp4');
    const copy = { state: MediaCopyState.STORED, sizeBytes: bytes.length, contentType: 'video/mp4', storedAt: now.toISOString() };
    return (await store.finishMediaCopy(job!, copy, now))!;
  }

  it('marks each expired copy once, publishes one version of it, and leaves nothing in the bucket', async () => {
    const seeded: Generation[] = [];
    for (let i = 0; i < COPIES; i++) seeded.push(await storedCopy(stores[0]));
    for (const g of seeded) expect(await media.head(mediaKey(g.id))).not.toBeNull();

    // Each sweep waits, after reading what is due, until the other has read it too.
    let arrivals = 0;
    let bothRead!: () => void;
    const bothHaveRead = new Promise<void>((resolve) => (bothRead = resolve));
    const published: Array<{ instance: string; id: string; version: number }> = [];
    const errors: unknown[] = [];
    const retention = (store: Store, instance: string) =>
      new MediaRetention({
        queue: {
          findExpiringCopies: async (before, limit) => {
            const due = await store.findExpiringCopies(before, limit);
            if (++arrivals === 2) bothRead();
            await bothHaveRead;
            return due;
          },
          markCopiesExpired: (ids, at) => store.markCopiesExpired(ids, at),
        },
        media,
        publish: (g) => published.push({ instance, id: g.id, version: g.version }),
        log: pino({ level: 'warn' }, { write: (line: string) => void errors.push(line) }),
        retentionMs: 60_000,
        intervalMs: 60_000,
        batch: 100,
        // An hour on: every seeded copy is past its retention.
        now: () => new Date(Date.now() + HOUR),
      });
    const [a, b] = await within('both sweeps', Promise.all([retention(stores[0], 'a').sweep(), retention(stores[1], 'b').sweep()]), 60_000);

    const ids = seeded.map((g) => g.id).sort();
    expect([...a, ...b].map((g) => g.id).sort()).toEqual(ids);
    expect(a.filter((g) => b.some((h) => h.id === g.id))).toEqual([]);
    expect(published.map((p) => p.id).sort()).toEqual(ids);
    for (const g of seeded) {
      const now = (await stores[1].getGeneration(g.id))!;
      expect({ id: g.id, version: now.version, state: now.video?.copy?.state }).toEqual({
        id: g.id,
        version: g.version + 1,
        state: MediaCopyState.EXPIRED,
      });
      expect(published.filter((p) => p.id === g.id)).toEqual([expect.objectContaining({ version: g.version + 1 })]);
      expect(await media.head(mediaKey(g.id))).toBeNull();
    }
    expect(errors).toEqual([]);
    // Nothing is left to sweep.
    expect(await retention(stores[1], 'b').sweep()).toEqual([]);
  }, 120_000);
});
