/**
 * The media copier against the simulator's signed, expiring links and its download faults, end to
 * end: a real gateway, the simulator as the upstream, a real folder store and a bucket on s3rver (an
 * S3-protocol server; no S3 server can be installed here). Failures that may pass are retried and
 * stored; final ones end the copy FAILED with a typed code, while the generation stays COMPLETED with
 * the upstream's link as its video. A video whose upstream link has expired still plays from the
 * gateway's URL.
 */
import { createHash } from 'node:crypto';
import { startSimulator, type Fault, type Simulator } from '../../src/simulator';
import { sampleVideo } from '../../src/simulator/video';
import { SIMULATOR_KEY, TEST_TIME_SCALE, gqlData, useGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { useS3Server } from '../helpers/s3-server';

jest.setTimeout(120_000);

const SAMPLE = sampleVideo();
const SAMPLE_SHA256 = createHash('sha256').update(SAMPLE).digest('hex');
const VIEW = `query Get($id: ID!) { videoGeneration(id: $id) {
  status error { code } video { url upstreamUrl upstreamUrlExpiresAt copy { state sizeBytes sha256 errorCode } } } }`;

/**
 * A gateway (as `useGateway`) in front of a simulator of its own whose file links live
 * `fileLinkTtlSeconds`; the simulator's faults are cleared after each test.
 */
function useGatewayWithLinks(fileLinkTtlSeconds: number, env: () => Record<string, string>): TestGateway {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale: TEST_TIME_SCALE, seed: 15, fileLinkTtlSeconds });
  }, 120_000);
  const gw = useGateway(() => ({ simulator: sim, env: env() }));
  afterEach(() => sim.control.clearFaults());
  afterAll(() => sim?.stop(), 120_000);
  return gw;
}

/** Creates a generation and waits until its copy has ended; returns what its owner reads. */
async function createAndSettle(gw: TestGateway, waitMs = 60_000): Promise<{ id: string; view: any }> {
  const key = await gw.keyFor('alice');
  const { createVideoGeneration: g } = await gqlData(
    gw,
    key,
    'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }',
    {
      input: { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' },
    },
  );
  await waitFor(
    'the copy to end',
    async () => {
      const now = await gw.app.store.getGeneration(g.id);
      return now?.video?.copy && now.video.copy.state !== 'PENDING';
    },
    waitMs,
    50,
  );
  const { videoGeneration } = await gqlData(gw, key, VIEW, { id: g.id });
  return { id: g.id, view: videoGeneration };
}

async function playsSample(url: string, base: string): Promise<boolean> {
  const res = await fetch(new URL(url, base));
  return res.status === 200 && Buffer.from(await res.arrayBuffer()).equals(SAMPLE);
}

describe('media copy: download faults from the simulator (folder store)', () => {
  const gw = useGatewayWithLinks(3600, () => ({
    MEDIA_STORE: 'folder',
    MEDIA_COPY_ATTEMPTS: '3',
    MEDIA_COPY_RETRY_MS: '100',
    MEDIA_MAX_BYTES: String(1024 * 1024),
    MEDIA_COPY_TIMEOUT_MS: '5000',
  }));

  const transient: [string, Fault['action'], number][] = [
    ['a 503 twice', { kind: 'status', status: 503 }, 2],
    ['a body cut short once', { kind: 'truncated', bytes: 10_000 }, 1],
    ['a dropped connection once', { kind: 'drop' }, 1],
    ['a slow body', { kind: 'slowBody', chunkDelayMs: 100, chunkBytes: 32 * 1024 }, 1],
    ['a slow start', { kind: 'delay', ms: 1_000 }, 1],
  ];
  it.each(transient)('stores the video despite %s (retrying what failed) and serves it as video.url', async (_name, action, times) => {
    gw.simulator.control.injectFault({ endpoint: 'file', times, action });
    const { view } = await createAndSettle(gw);
    expect(view.status).toBe('COMPLETED');
    expect(view.video.copy).toEqual({ state: 'STORED', sizeBytes: SAMPLE.length, sha256: SAMPLE_SHA256, errorCode: null });
    expect(view.video.url).toMatch(/^\/media\//);
    expect(await playsSample(view.video.url, gw.app.url)).toBe(true);
  });

  const final: [string, Fault['action'], string][] = [
    ['404', { kind: 'status', status: 404 }, 'LINK_GONE'],
    ['a wrong content type', { kind: 'contentType', contentType: 'text/html' }, 'WRONG_CONTENT_TYPE'],
    ['an oversize body', { kind: 'oversized', bytes: 2 * 1024 * 1024 }, 'TOO_LARGE'],
    ['a body cut short on every attempt', { kind: 'truncated' }, 'ATTEMPTS_EXHAUSTED'],
  ];
  it.each(final)('gives up on %s with a typed code; the generation stays COMPLETED with the upstream link', async (_name, action, code) => {
    gw.simulator.control.injectFault({ endpoint: 'file', times: Infinity, action });
    const { view } = await createAndSettle(gw);
    gw.simulator.control.clearFaults();
    expect(view).toMatchObject({ status: 'COMPLETED', error: null, video: { copy: { state: 'FAILED', errorCode: code, sizeBytes: null } } });
    // Not lost: the video is the upstream's link, which still plays.
    expect(view.video.url).toBe(view.video.upstreamUrl);
    expect(await playsSample(view.video.url, gw.app.url)).toBe(true);
  });
});

describe.each(['folder', 's3'] as const)('media copy: a short-lived upstream link (%s store)', (kind) => {
  const TTL_SECONDS = 5;
  const s3 = kind === 's3' ? useS3Server() : null;
  const gw = useGatewayWithLinks(TTL_SECONDS, () => ({
    MEDIA_STORE: kind,
    MEDIA_COPY_ATTEMPTS: '3',
    MEDIA_COPY_RETRY_MS: '14000',
    ...s3?.gatewayEnv(),
  }));

  it('stores the video before the link expires, and it still plays from video.url once the upstream link is dead', async () => {
    const { id, view } = await createAndSettle(gw);
    expect(view.video.copy.state).toBe('STORED');
    const expiresAt = Date.parse(view.video.upstreamUrlExpiresAt);
    expect(expiresAt).toBeGreaterThan(Date.now() - 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + TTL_SECONDS * 1000);
    await waitFor('the upstream link to expire', async () => (await fetch(view.video.upstreamUrl)).status === 403, 30_000, 250);
    expect(await playsSample(view.video.url, gw.app.url)).toBe(true);
    // The next read too: a fresh gateway link, still the stored video.
    const { videoGeneration } = await gqlData(gw, await gw.keyFor('alice'), VIEW, { id });
    expect(videoGeneration.video.url).toMatch(/^\/media\//);
    expect(await playsSample(videoGeneration.video.url, gw.app.url)).toBe(true);
  });

  if (kind === 'folder')
    it('gives up with LINK_GONE when the link has expired before a retry (a real 403 from the signed link)', async () => {
      // One failure that may pass; the retry (7-14 s later) finds the link dead.
      gw.simulator.control.injectFault({ endpoint: 'file', action: { kind: 'status', status: 503 } });
      const { view } = await createAndSettle(gw, 90_000);
      expect(view).toMatchObject({ status: 'COMPLETED', error: null, video: { copy: { state: 'FAILED', errorCode: 'LINK_GONE' } } });
      expect(view.video.url).toBe(view.video.upstreamUrl);
      expect((await fetch(view.video.upstreamUrl)).status).toBe(403);
    });
});
