/**
 * The copy of finished videos as a durable job: a real embedded store (its trigger enqueues the copy
 * with the completion), a real media folder, the real downloader, and a real HTTP server on
 * 127.0.0.1 standing in for the upstream's file host with every fault a link can have.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import pino from 'pino';
import { MediaCopier, mediaKey, type MediaCopierOptions } from '../../../src/generations/media-copier';
import { FolderMediaStore } from '../../../src/media/folder-media-store';
import { GenerationStatus, MediaCopyErrorCode, MediaCopyState, type Generation } from '../../../src/model/generation';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import { VideoDownloader } from '../../../src/upstream/video-download';
import { waitFor } from '../../helpers/gateway';
import { START_TIMEOUT_MS } from '../../helpers/timeouts';

const MAX_BYTES = 2 * 1024 * 1024;
const VIDEO = randomBytes(1024 * 1024);
const SHA256 = createHash('sha256').update(VIDEO).digest('hex');

/** Requests per path, to show how often a link was fetched. */
const hits = new Map<string, number>();
let flakyFailures = 0;

function startFileHost(): Promise<Server> {
  const server = createServer((req, res) => {
    const name = new URL(req.url!, 'http://x').pathname.slice(1);
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const video = (headers: Record<string, string | number> = {}) =>
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': VIDEO.length, ...headers });
    switch (name) {
      case 'ok.mp4':
      case 'twice.mp4':
        video();
        return res.end(VIDEO);
      case 'slow-ok.mp4':
        video();
        res.write(VIDEO.subarray(0, 1000));
        return setTimeout(() => res.end(VIDEO.subarray(1000)), 400);
      case 'expired.mp4':
        res.writeHead(403, { 'content-type': 'application/xml' });
        return res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      case 'missing.mp4':
        res.writeHead(404);
        return res.end();
      case 'page.mp4':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html>sign in</html>');
      case 'declared-huge.mp4':
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': MAX_BYTES + 1 });
        return res.end();
      case 'undeclared-huge.mp4':
        res.writeHead(200, { 'content-type': 'video/mp4' }); // chunked: the size shows only while reading
        for (let i = 0; i < 3; i += 1) res.write(VIDEO);
        return res.end();
      case 'truncated.mp4':
        video();
        res.write(VIDEO.subarray(0, 300_000));
        return setTimeout(() => res.destroy(), 20);
      case 'stalls.mp4':
        video();
        return res.write(VIDEO.subarray(0, 1000)); // and never more
      case 'flaky.mp4':
        if (flakyFailures > 0) {
          flakyFailures -= 1;
          res.writeHead(503);
          return res.end();
        }
        video();
        return res.end(VIDEO);
      default:
        res.writeHead(500);
        res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let host: Server;
let base: string;
let store: Store;
let mediaDir: string;
let media: FolderMediaStore;
const copiers: MediaCopier[] = [];
const published: Generation[] = [];
const downloaders: VideoDownloader[] = [];

// One database for the file (each test uses its own generations): PGlite takes seconds to start on a loaded machine.
beforeAll(async () => {
  host = await startFileHost();
  base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  store = createPgliteStore({});
  await store.start();
}, START_TIMEOUT_MS);
afterAll(async () => {
  await store.stop();
  await new Promise((resolve) => host.close(resolve));
});

beforeEach(async () => {
  mediaDir = mkdtempSync(path.join(tmpdir(), 'vgw-copier-'));
  media = new FolderMediaStore(mediaDir);
  await media.start();
  published.length = 0;
  hits.clear();
});

afterEach(async () => {
  await Promise.all(copiers.splice(0).map((c) => c.stop()));
  await Promise.all(downloaders.splice(0).map((d) => d.stop()));
  rmSync(mediaDir, { recursive: true, force: true });
});

function startCopier(overrides: Partial<MediaCopierOptions> & { timeoutMs?: number } = {}): MediaCopier {
  const downloader = new VideoDownloader({ maxBytes: MAX_BYTES, timeoutMs: overrides.timeoutMs ?? 5_000 });
  downloaders.push(downloader);
  const copier = new MediaCopier({
    queue: store,
    media,
    downloader,
    publish: (g) => published.push(g),
    log: pino({ level: 'silent' }),
    instanceId: `copier-${copiers.length + 1}`,
    concurrency: 4,
    attempts: 3,
    retryBaseMs: 20,
    retryMaxMs: 50,
    expiryMarginMs: 0,
    releaseLeasesAtStart: false,
    leaseMs: 10_000,
    idleMs: 50,
    ...overrides,
  });
  copiers.push(copier);
  copier.start();
  return copier;
}

/** A generation completed by the poller with a media store configured: its copy is PENDING, which enqueues it. */
async function completed(file: string): Promise<Generation> {
  const id = randomUUID();
  const now = new Date();
  await store.insertGeneration({
    id,
    owner: 'alice',
    input: { model: 'google/veo3', prompt: 'a cat', durationSeconds: 8 },
    inputHash: 'hash',
    idempotencyKey: null,
    status: GenerationStatus.GENERATING,
    createdAt: now,
    deadlineAt: new Date(now.getTime() + 600_000),
  });
  const video = { url: `${base}/${file}`, contentType: 'video/mp4', fileName: null, sizeBytes: null, copy: { state: MediaCopyState.PENDING } };
  return (await store.updateGeneration({ id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, video, completedAt: now } }))!;
}

/** Waits until the generation's copy has ended, and returns it as stored. */
async function settled(g: Generation, timeoutMs = 8_000): Promise<Generation> {
  return waitFor(
    `the copy of ${g.video!.url} to end`,
    async () => {
      const now = await store.getGeneration(g.id);
      return now?.video?.copy?.state !== MediaCopyState.PENDING ? now : undefined;
    },
    timeoutMs,
  );
}

describe('MediaCopier', () => {
  it('stores a finished video streamed, with its size and SHA-256, as a new published version', async () => {
    const g = await completed('ok.mp4');
    startCopier();
    const done = await settled(g);
    expect(done.version).toBe(g.version + 1);
    expect(done.video).toMatchObject({
      url: `${base}/ok.mp4`,
      copy: { state: 'STORED', sizeBytes: VIDEO.length, sha256: SHA256, contentType: 'video/mp4' },
    });
    expect(published.map((p) => [p.id, p.version, p.video?.copy?.state])).toEqual([[g.id, g.version + 1, 'STORED']]);
    const read = await media.read(mediaKey(g.id));
    expect((await buffer(read!.body)).equals(VIDEO)).toBe(true);
  });

  it.each([
    ['expired.mp4', MediaCopyErrorCode.LINK_GONE, /answered 403/],
    ['missing.mp4', MediaCopyErrorCode.LINK_GONE, /answered 404/],
    ['page.mp4', MediaCopyErrorCode.WRONG_CONTENT_TYPE, /content type "text\/html"/],
    ['declared-huge.mp4', MediaCopyErrorCode.TOO_LARGE, /over the limit/],
    ['undeclared-huge.mp4', MediaCopyErrorCode.TOO_LARGE, /over the limit/],
  ])('gives up %s at once with %s, keeping the upstream link as the video', async (file, code, message) => {
    const g = await completed(file);
    startCopier();
    const done = await settled(g);
    expect(done.video).toMatchObject({
      url: `${base}/${file}`,
      copy: { state: 'FAILED', errorCode: code, errorMessage: expect.stringMatching(message) },
    });
    expect(hits.get(file)).toBe(1);
    expect(await media.head(mediaKey(g.id))).toBeNull();
  });

  it.each([
    ['truncated.mp4', /broke off|ended after/],
    ['stalls.mp4', /within 300 ms/],
  ])('retries %s with backoff, then gives up with ATTEMPTS_EXHAUSTED and leaves no file', async (file, message) => {
    const g = await completed(file);
    startCopier({ timeoutMs: 300 });
    const done = await settled(g);
    expect(done.video!.copy).toMatchObject({
      state: 'FAILED',
      errorCode: MediaCopyErrorCode.ATTEMPTS_EXHAUSTED,
      errorMessage: expect.stringMatching(message),
    });
    expect(hits.get(file)).toBe(3);
    expect(await media.head(mediaKey(g.id))).toBeNull();
  });

  it('stores a video whose link failed twice (503) on the third attempt', async () => {
    flakyFailures = 2;
    const g = await completed('flaky.mp4');
    startCopier();
    const done = await settled(g);
    expect(done.video!.copy).toMatchObject({ state: 'STORED', sha256: SHA256 });
    expect(hits.get('flaky.mp4')).toBe(3);
  });

  it('retries before the link expires (less the margin) even when the backoff would wait far longer', async () => {
    flakyFailures = 1;
    const expires = Math.floor(Date.now() / 1000) + 4;
    const g = await completed(`flaky.mp4?Expires=${expires}&Signature=x`);
    // A minute's backoff would end long after the link died; the retry comes before the margin instead.
    startCopier({ retryBaseMs: 60_000, retryMaxMs: 600_000, expiryMarginMs: 1_000 });
    const done = await settled(g, 6_000);
    expect(done.video!.copy).toMatchObject({ state: 'STORED', sha256: SHA256 });
    expect(hits.get('flaky.mp4')).toBe(2);
    expect(Date.parse(done.video!.copy!.storedAt!)).toBeLessThanOrEqual(expires * 1000 - 1_000);
  });

  it('two copiers on one store copy each video once', async () => {
    const gs = await Promise.all(Array.from({ length: 6 }, () => completed('twice.mp4')));
    startCopier();
    startCopier();
    for (const g of gs) expect((await settled(g)).video!.copy!.state).toBe('STORED');
    expect(hits.get('twice.mp4')).toBe(6);
    expect(published).toHaveLength(6);
  });

  it('a copier that stops answering mid-copy leaves the job to the next one once its lease runs out', async () => {
    const g = await completed('stalls.mp4');
    // The first copier's download stalls for good (its deadline is far): it holds the lease.
    // One slot, busy with that download: it claims nothing more, like an instance frozen or killed with -9.
    startCopier({ timeoutMs: 60_000, leaseMs: 400, instanceId: 'gone', concurrency: 1 });
    await waitFor('the first download to start', () => hits.get('stalls.mp4'), 5_000);
    const second = startCopier({ instanceId: 'next', attempts: 1, timeoutMs: 300 });
    const done = await settled(g);
    expect(second).toBeDefined();
    // The second copier took over after the lease and made its own (single) attempt.
    expect(hits.get('stalls.mp4')).toBe(2);
    expect(done.video!.copy).toMatchObject({ state: 'FAILED', errorCode: MediaCopyErrorCode.ATTEMPTS_EXHAUSTED });
  });

  it('a stopping copier hands its copy in flight back at once, without counting it as an attempt', async () => {
    const g = await completed('stalls.mp4');
    const first = startCopier({ timeoutMs: 60_000, attempts: 1 });
    await waitFor('the download to start', () => hits.get('stalls.mp4'), 5_000);
    await first.stop();
    expect((await store.getGeneration(g.id))!.video!.copy!.state).toBe('PENDING');
    // With one attempt allowed, the next copier still gets its own.
    startCopier({ timeoutMs: 300, attempts: 1 });
    expect((await settled(g)).video!.copy).toMatchObject({ state: 'FAILED', errorCode: MediaCopyErrorCode.ATTEMPTS_EXHAUSTED });
    expect(hits.get('stalls.mp4')).toBe(2);
  });

  it('a slow copy that finishes within its deadline is stored', async () => {
    const g = await completed('slow-ok.mp4');
    startCopier({ timeoutMs: 3_000 });
    expect((await settled(g)).video!.copy).toMatchObject({ state: 'STORED', sha256: SHA256 });
  });

  it('nothing is enqueued for a completion without a PENDING copy (MEDIA_STORE=off)', async () => {
    const id = randomUUID();
    const now = new Date();
    await store.insertGeneration({
      id,
      owner: 'alice',
      input: { model: 'google/veo3', prompt: 'a cat' },
      inputHash: 'h',
      idempotencyKey: null,
      status: GenerationStatus.GENERATING,
      createdAt: now,
      deadlineAt: new Date(now.getTime() + 600_000),
    });
    const video = { url: `${base}/ok.mp4`, contentType: null, fileName: null, sizeBytes: null };
    await store.updateGeneration({ id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, video } });
    expect(await store.nextMediaCopyDueAt()).toBeNull();
    expect(await store.claimMediaCopies('x', new Date(), 1000, 10)).toEqual([]);
  });
});
