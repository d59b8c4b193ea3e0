/**
 * Restarts: a gateway stopped mid-generation and started again on the same data folder and port
 * resumes polling what was in flight, sends no second create, and reconnecting subscribers (which
 * re-subscribe) see the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startSimulator, type Simulator } from '../../src/simulator';
import { freePort } from '../helpers/free-port';
import {
  CREATE,
  GET,
  SIMULATOR_KEY,
  TEST_TIME_SCALE,
  WATCH,
  collect,
  gqlData,
  sleep,
  startGateway,
  waitFor,
  type TestGateway,
  within,
} from '../helpers/gateway';

// Each test starts the gateway twice on a data folder (about 10 s); room for a busy machine.
jest.setTimeout(60_000);

interface ConnectionLog {
  connected: number;
  closeCodes: number[];
}

/**
 * A graphql-ws client that retries (20 attempts) the way a browser app behind a restarting server
 * should be configured:
 * - `shouldRetry: () => true`: graphql-ws's default retries only close events, but a reconnect
 *   attempt while the server is down first surfaces as an ECONNREFUSED error event (from `ws`),
 *   which would otherwise end the subscription with an error;
 * - a short capped backoff (0.1 s doubling to 1 s): the default randomised backoff waits 1.3–4 s
 *   before the first retry and only slows the test down.
 */
function reconnectingClient(url: string, key: string, log: ConnectionLog): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 20,
    retryWait: (retries) => sleep(Math.min(1_000, 100 * 2 ** retries)),
    shouldRetry: () => true,
    lazy: true,
  });
  client.on('connected', () => {
    log.connected += 1;
  });
  client.on('closed', (event) => {
    log.closeCodes.push((event as { code: number }).code);
  });
  return client;
}

describe('gateway restart', () => {
  let simulator: Simulator;
  const gateways: TestGateway[] = [];
  const clients: Client[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, host: '127.0.0.1', timeScale: TEST_TIME_SCALE, seed: 7 });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    for (const gw of gateways.splice(0).reverse()) await gw.stop();
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  /**
   * A gateway on a fixed port and data folder, sharing the test's simulator. The deadline is the
   * longest allowed (864 s at the test's time scale): the default's 9 s was passed once by a stop and
   * a start on a loaded machine, and these tests end their generations themselves.
   */
  async function start(dataDir: string, port: number): Promise<TestGateway> {
    const gw = await startGateway({ dataDir, simulator, env: { PORT: String(port), GENERATION_DEADLINE_SECONDS: '86400' } });
    gateways.push(gw);
    expect(gw.app.url).toBe(`http://127.0.0.1:${port}/graphql`);
    return gw;
  }

  async function setup() {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'veo-gateway-restart-'));
    dirs.push(dataDir);
    const port = await freePort();
    const first = await start(dataDir, port);
    const key = await first.keyFor('alice');
    return { dataDir, port, first, key };
  }

  const polls = (upstreamId: string) => simulator.control.counts().pollsById[upstreamId] ?? 0;

  it('should resume a generation in flight and let a reconnecting subscriber see it complete', async () => {
    const { dataDir, port, first, key } = await setup();
    const createsBefore = simulator.control.counts().create;

    const { createVideoGeneration: g } = await gqlData(first, key, CREATE, { input: { model: 'google/veo3', prompt: 'survive a restart' } });
    // Keep it generating upstream until the test says otherwise, whatever the restart takes.
    simulator.control.forceOutcome(g.upstreamId, 'pending');
    await waitFor('GENERATING', async () => (await gqlData(first, key, GET, { id: g.id })).videoGeneration.status === 'GENERATING', 10_000);

    const connections: ConnectionLog = { connected: 0, closeCodes: [] };
    const client = reconnectingClient(first.app.wsUrl, key, connections);
    clients.push(client);
    const sub = collect(client, WATCH, { id: g.id });
    await waitFor('the snapshot', () => sub.values.length >= 1);
    expect(sub.values[0].videoGenerationUpdated.status).toBe('GENERATING');

    await first.stop();
    await waitFor('the client to see the close', () => connections.closeCodes.length >= 1, 5_000);
    expect(connections.closeCodes[0]).toBe(1001);
    const pollsWhileDown = polls(g.upstreamId);

    // Nobody can create anything while it is down: the address refuses connections.
    await expect(
      fetch(first.app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: CREATE, variables: { input: { model: 'veo2', prompt: 'while down' } } }),
      }),
    ).rejects.toThrow();
    await sleep(300);
    expect(polls(g.upstreamId)).toBe(pollsWhileDown); // nothing polls while it is down

    const second = await start(dataDir, port);
    // The same key still works, and the generation is still in flight.
    const { videoGeneration: resumed } = await gqlData(second, key, GET, { id: g.id });
    expect(resumed.status).toBe('GENERATING');
    expect(resumed.upstreamId).toBe(g.upstreamId);

    // The new poller picks it up.
    await waitFor('a poll after the restart', () => polls(g.upstreamId) > pollsWhileDown, 10_000);
    // The subscriber has reconnected (and re-subscribed) by itself.
    await waitFor('the client to reconnect', () => connections.connected >= 2, 10_000);

    simulator.control.forceOutcome(g.upstreamId, 'completed');
    await within('the subscription to complete', sub.done, 10_000);
    expect(sub.errors).toEqual([]);
    const updates = sub.values.map((v) => v.videoGenerationUpdated);
    const last = updates.at(-1);
    expect(last.status).toBe('COMPLETED');
    expect(last.video.url).toEqual(expect.any(String));
    expect(last.transitions.map((t: { status: string }) => t.status)).toEqual(['QUEUED', 'GENERATING', 'COMPLETED']);
    // Across the reconnect nothing is missed and versions never go backwards; the re-subscription's
    // snapshot may repeat the last version seen, once.
    const versions: number[] = updates.map((u) => u.version);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThanOrEqual(versions[i - 1]!);
    const unique = [...new Set(versions)];
    expect(unique).toEqual(unique.map((_, i) => unique[0]! + i));
    expect(versions.length - unique.length).toBeLessThanOrEqual(1);

    const res = await fetch(last.video.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    await res.arrayBuffer();

    expect(simulator.control.counts().create).toBe(createsBefore + 1);
    const { videoGeneration: after } = await gqlData(second, key, GET, { id: g.id });
    expect(after).toEqual(last);
  });

  it('should take one last look at a generation whose deadline passed while the gateway was down, and keep its video', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'veo-gateway-restart-'));
    dirs.push(dataDir);
    const port = await freePort();
    // 300 s at the test's time scale: a 3 s deadline.
    const env = { PORT: String(port), GENERATION_DEADLINE_SECONDS: '300' };
    const first = await startGateway({ dataDir, simulator, env });
    gateways.push(first);
    const key = await first.keyFor('alice');
    const { createVideoGeneration: g } = await gqlData(first, key, CREATE, {
      input: { model: 'google/veo3', prompt: 'finished while we were down' },
    });
    simulator.control.forceOutcome(g.upstreamId, 'pending');
    await first.stop();

    // Upstream, the job finishes while the gateway is down; then its deadline passes.
    simulator.control.forceOutcome(g.upstreamId, 'completed');
    await sleep(Math.max(0, new Date(g.deadlineAt).getTime() - Date.now()) + 200);
    const pollsWhileDown = polls(g.upstreamId);

    const second = await startGateway({ dataDir, simulator, env });
    gateways.push(second);
    const ended = await waitFor(
      'the generation to end',
      async () => {
        const { videoGeneration } = await gqlData(second, key, GET, { id: g.id });
        return ['QUEUED', 'GENERATING'].includes(videoGeneration.status) ? null : videoGeneration;
      },
      10_000,
    );
    expect(ended.status).toBe('COMPLETED');
    expect(ended.video.url).toEqual(expect.any(String));
    expect(ended.error).toBeNull();
    expect(polls(g.upstreamId)).toBe(pollsWhileDown + 1);
  }, 120_000);

  it('should resume every generation that was in flight, without re-creating any, and keep the ended ones as they were', async () => {
    const { dataDir, port, first, key } = await setup();
    const createsBefore = simulator.control.counts().create;

    const inFlight: Array<{ id: string; upstreamId: string }> = [];
    for (const model of ['veo2', 'google/veo-3.0-fast', 'veo-3.1-lite-generate-001']) {
      const { createVideoGeneration: g } = await gqlData(first, key, CREATE, { input: { model, prompt: `in flight ${model}` } });
      simulator.control.forceOutcome(g.upstreamId, 'pending');
      inFlight.push(g);
    }
    const { createVideoGeneration: failed } = await gqlData(first, key, CREATE, { input: { model: 'veo2', prompt: 'fails first' } });
    simulator.control.forceOutcome(failed.upstreamId, 'error');
    await waitFor(
      'all to be seen upstream',
      async () => {
        const all = await Promise.all([...inFlight, failed].map((g) => gqlData(first, key, GET, { id: g.id })));
        return all.every((r, i) => r.videoGeneration.status === (i < inFlight.length ? 'GENERATING' : 'FAILED'));
      },
      10_000,
    );
    const failedBefore = (await gqlData(first, key, GET, { id: failed.id })).videoGeneration;

    await first.stop();
    const pollsBefore = inFlight.map((g) => polls(g.upstreamId));
    const failedPolls = polls(failed.upstreamId);

    const second = await start(dataDir, port);
    await waitFor('a poll of each after the restart', () => inFlight.every((g, i) => polls(g.upstreamId) > pollsBefore[i]!), 10_000);
    for (const g of inFlight) simulator.control.forceOutcome(g.upstreamId, 'completed');
    await waitFor(
      'all to complete',
      async () => {
        const all = await Promise.all(inFlight.map((g) => gqlData(second, key, GET, { id: g.id })));
        return all.every((r) => r.videoGeneration.status === 'COMPLETED');
      },
      10_000,
    );

    // The ended one was left alone: not polled again, unchanged.
    expect(polls(failed.upstreamId)).toBe(failedPolls);
    const failedAfter = (await gqlData(second, key, GET, { id: failed.id })).videoGeneration;
    expect({ ...failedAfter, progress: null }).toEqual({ ...failedBefore, progress: null });
    expect(failedAfter.status).toBe('FAILED');

    expect(simulator.control.counts().create).toBe(createsBefore + 4);
  });
});
