/**
 * Finished-video links: signed and expiring like the upstream's CDN links, and faulty on demand
 * (each download fault the gateway's media copier must handle).
 */
import { readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { SAMPLE_VIDEO_PATH, type Simulator } from '../../../src/simulator';
import { linkExpiry } from '../../../src/upstream/link-expiry';
import { CREATE_REQUESTS } from '../../fixtures/upstream-requests';
import { createId, start, waitForStatus } from './helpers';

const SAMPLE_SIZE = statSync(SAMPLE_VIDEO_PATH).size;

/** The declared length and the bytes that came before the connection ended (fetch would throw on a cut body). */
function download(url: string): Promise<{ declared: string | undefined; received: number }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('error', () => undefined);
      res.on('close', () => resolve({ declared: res.headers['content-length'], received }));
    }).on('error', reject);
  });
}

describe('signed, expiring video links', () => {
  let sim: Simulator;
  let id: string;
  let url: string;
  beforeAll(async () => {
    sim = await start({ timeScale: 0.0001, fileLinkTtlSeconds: 120 });
    id = await createId(sim, CREATE_REQUESTS.veo2);
    url = (await waitForStatus(sim, id, 'completed')).video.url as string;
  });
  afterAll(() => sim.stop());

  it('hands out a link whose expiry the gateway reads (Expires=), fileLinkTtlSeconds ahead', () => {
    const expiry = linkExpiry(url)!.getTime();
    expect(expiry).toBeGreaterThan(Date.now() + 100_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it('serves the video on a good link', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(SAMPLE_SIZE);
  });

  it('refuses with 403 an expired link, a tampered one, another file under the same signature, and an unsigned one', async () => {
    const tampered = new URL(url);
    tampered.searchParams.set('Signature', 'A'.repeat(43));
    const later = new URL(url);
    later.searchParams.set('Expires', String(Number(later.searchParams.get('Expires')) + 60));
    const otherFile = url.replace(encodeURIComponent(id), 'another-id');
    const unsigned = url.split('?')[0]!;
    const expired = sim.control.fileLink(id, -1);
    for (const link of [expired, tampered.toString(), later.toString(), otherFile, unsigned]) {
      const res = await fetch(link);
      expect([link, res.status, res.headers.get('content-type')]).toEqual([link, 403, 'application/xml']);
      await res.arrayBuffer();
    }
  });

  it('stops working once its time is up', async () => {
    const short = sim.control.fileLink(id, 1);
    expect((await fetch(short)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await fetch(short)).status).toBe(403);
  });
});

describe('download faults', () => {
  let sim: Simulator;
  let id: string;
  let url: string;
  beforeAll(async () => {
    sim = await start({ timeScale: 0.0001 });
    id = await createId(sim, CREATE_REQUESTS.veo2);
    url = (await waitForStatus(sim, id, 'completed')).video.url as string;
  });
  afterEach(() => sim.control.clearFaults());
  afterAll(() => sim.stop());

  it('answers a status (404) for this generation only, once', async () => {
    const other = await createId(sim, CREATE_REQUESTS.veo2);
    const otherUrl = (await waitForStatus(sim, other, 'completed')).video.url as string;
    sim.control.injectFault({ endpoint: 'file', match: { generationId: id }, action: { kind: 'status', status: 404 } });
    expect((await fetch(otherUrl)).status).toBe(200);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url)).status).toBe(200);
  });

  it('sends the wrong content type', async () => {
    sim.control.injectFault({ endpoint: 'file', action: { kind: 'contentType', contentType: 'text/html' } });
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect((await res.arrayBuffer()).byteLength).toBe(SAMPLE_SIZE);
  });

  it('declares an oversize body and streams all of it', async () => {
    const bytes = 5 * 1024 * 1024;
    sim.control.injectFault({ endpoint: 'file', action: { kind: 'oversized', bytes } });
    const res = await fetch(url);
    expect(res.headers.get('content-length')).toBe(String(bytes));
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(bytes);
    expect(body.subarray(0, 8).equals(Buffer.from(await (await fetch(url)).arrayBuffer()).subarray(0, 8))).toBe(true);
  });

  it('cuts the body short of its declared length', async () => {
    sim.control.injectFault({ endpoint: 'file', action: { kind: 'truncated', bytes: 1000 } });
    const { declared, received } = await download(url);
    expect({ declared, received }).toEqual({ declared: String(SAMPLE_SIZE), received: 1000 });
  });

  it('sends slowly, piece by piece', async () => {
    sim.control.injectFault({ endpoint: 'file', action: { kind: 'slowBody', chunkDelayMs: 50, chunkBytes: 40_000 } });
    const started = Date.now();
    const res = await fetch(url);
    expect((await res.arrayBuffer()).byteLength).toBe(SAMPLE_SIZE);
    // Three pieces: two waits at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('leaves downloads alone with an "any" fault, and refuses file-only kinds elsewhere', async () => {
    sim.control.injectFault({ endpoint: 'any', times: Infinity, action: { kind: 'status', status: 500 } });
    expect((await fetch(url)).status).toBe(200);
    expect(() => sim.control.injectFault({ endpoint: 'poll', action: { kind: 'truncated' } })).toThrow(/needs endpoint "file"/);
    expect(() => sim.control.injectFault({ endpoint: 'file', action: { kind: 'malformed' } })).toThrow(/endpoint "file" takes/);
  });
});

describe('videos of a chosen size (videoBytes)', () => {
  const SIZE = 3 * 1024 * 1024 + 7;
  let sim: Simulator;
  let id: string;
  let url: string;
  let poll: Record<string, any>;
  beforeAll(async () => {
    sim = await start({ timeScale: 0.0001, videoBytes: SIZE });
    id = await createId(sim, CREATE_REQUESTS.veo2);
    poll = await waitForStatus(sim, id, 'completed');
    url = poll.video.url as string;
  });
  afterEach(() => sim.control.clearFaults());
  afterAll(() => sim.stop());

  it('says the size in the poll answer and serves that many bytes: the clip, then zeros', async () => {
    expect(poll.video.file_size).toBe(SIZE);
    const res = await fetch(url);
    expect([res.status, res.headers.get('content-length'), res.headers.get('content-type')]).toEqual([200, String(SIZE), 'video/mp4']);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(SIZE);
    expect(body.subarray(0, SAMPLE_SIZE).equals(readFileSync(SAMPLE_VIDEO_PATH))).toBe(true);
    expect(body.subarray(SAMPLE_SIZE).every((b) => b === 0)).toBe(true);
  });

  it('answers ranges across the clip and the padding with 206, and HEAD with the size alone', async () => {
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const from = SAMPLE_SIZE - 10;
    const res = await fetch(url, { headers: { range: `bytes=${from}-${from + 99}` } });
    expect([res.status, res.headers.get('content-range')]).toEqual([206, `bytes ${from}-${from + 99}/${SIZE}`]);
    expect(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(from, from + 100))).toBe(true);
    const tail = await fetch(url, { headers: { range: 'bytes=-5' } });
    expect([tail.status, (await tail.arrayBuffer()).byteLength]).toEqual([206, 5]);
    const beyond = await fetch(url, { headers: { range: `bytes=${SIZE}-` } });
    expect(beyond.status).toBe(416);
    await beyond.arrayBuffer();
    const head = await fetch(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(SIZE)]);
  });

  it('applies download faults to the sized video (a body cut at half of it)', async () => {
    sim.control.injectFault({ endpoint: 'file', action: { kind: 'truncated' } });
    const { declared, received } = await download(url);
    expect({ declared, received }).toEqual({ declared: String(SIZE), received: Math.floor(SIZE / 2) });
  });
});
