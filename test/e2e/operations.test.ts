/**
 * What an operator sees: health and readiness probes, Prometheus metrics, request ids, and a
 * graceful shutdown that closes WebSockets with 1001 and leaves in-flight work to be resumed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CREATE, GET, WATCH, collect, gqlData, startGateway, waitFor, wsClient, type TestGateway } from '../helpers/gateway';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const origin = (gw: TestGateway) => new URL(gw.app.url).origin;

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as any };
}

async function scrape(gw: TestGateway): Promise<string> {
  const res = await fetch(`${origin(gw)}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** Sum of the samples of `name` whose labels include every one of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found = false;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      found = true;
      sum += Number(m[3]);
    }
  }
  return found ? sum : undefined;
}

describe('operations', () => {
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    gw = await startGateway();
    key = await gw.keyFor('ops');
  }, START_TIMEOUT_MS);
  afterAll(() => gw?.stop());

  it('should answer /healthz with 200', async () => {
    const res = await getJson(`${origin(gw)}/healthz`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('should answer /readyz with 200 and its checks', async () => {
    const res = await getJson(`${origin(gw)}/readyz`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ready');
    expect(res.json.checks).toMatchObject({ store: 'ok', poller: 'ok', upstream: 'ok' });
  });

  it('should expose upstream, poll and generation metrics after a generation completes', async () => {
    const before = await scrape(gw);
    const createsBefore = sample(before, 'gateway_upstream_requests_total', { endpoint: 'create' }) ?? 0;

    const { createVideoGeneration: g } = await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'metrics' } });
    const client = wsClient(gw, key);
    const sub = collect(client, WATCH, { id: g.id });
    await sub.done;
    await client.dispose();
    expect(sub.values.at(-1)?.videoGenerationUpdated.status).toBe('COMPLETED');

    const after = await scrape(gw);
    expect(after).toMatch(/^# TYPE gateway_upstream_requests_total counter$/m);
    expect(sample(after, 'gateway_upstream_requests_total', { endpoint: 'create' })).toBe(createsBefore + 1);
    expect(after).toMatch(/^gateway_upstream_requests_total\{endpoint="create",outcome="20\d"\} \d+$/m);
    expect(sample(after, 'gateway_upstream_requests_total', { endpoint: 'poll' })).toBeGreaterThan(0);
    expect(sample(after, 'gateway_polls_total')).toBeGreaterThan(0);
    expect(sample(after, 'gateway_generations', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'gateway_upstream_request_duration_seconds_count', { endpoint: 'create' })).toBeGreaterThanOrEqual(1);
  });

  it('should count WebSocket connections and subscriptions up and down with a live subscription', async () => {
    // The previous test's socket may still be closing on the server side.
    await waitFor('an idle gateway', async () => {
      const text = await scrape(gw);
      return sample(text, 'gateway_websocket_connections') === 0 && sample(text, 'gateway_subscriptions') === 0;
    });

    // Slow the upstream so the generation (and its subscription) stays live.
    gw.simulator.control.setTimeScale(1);
    try {
      const { createVideoGeneration: g } = await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'live' } });
      const client = wsClient(gw, key);
      const one = collect(client, WATCH, { id: g.id });
      await waitFor('one subscription', async () => sample(await scrape(gw), 'gateway_subscriptions') === 1);
      const second = collect(client, WATCH, { id: g.id });
      await waitFor('two subscriptions', async () => sample(await scrape(gw), 'gateway_subscriptions') === 2);
      expect(sample(await scrape(gw), 'gateway_websocket_connections')).toBe(1);

      // Completing one subscription lowers the count by one; the socket stays.
      one.unsubscribe();
      await waitFor('one subscription left', async () => sample(await scrape(gw), 'gateway_subscriptions') === 1);
      expect(sample(await scrape(gw), 'gateway_websocket_connections')).toBe(1);

      // Closing the socket with a subscription still live brings both back to zero.
      await client.dispose();
      await second.done;
      await waitFor('no connections', async () => {
        const text = await scrape(gw);
        return sample(text, 'gateway_websocket_connections') === 0 && sample(text, 'gateway_subscriptions') === 0;
      });

      // A refused connection (bad key) and a refused subscription leave nothing behind.
      const bad = createClient({ url: gw.app.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      await collect(bad, WATCH, { id: g.id }).done;
      await bad.dispose();
      const refusedClient = wsClient(gw, key);
      await collect(refusedClient, WATCH, { id: '00000000-0000-4000-8000-000000000000' }).done;
      await refusedClient.dispose();
      await waitFor('still nothing', async () => {
        const text = await scrape(gw);
        return sample(text, 'gateway_websocket_connections') === 0 && sample(text, 'gateway_subscriptions') === 0;
      });
    } finally {
      gw.simulator.control.setTimeScale(0.01);
    }
  });

  it('should echo a valid x-request-id and generate one when it is absent or invalid', async () => {
    for (const url of [`${origin(gw)}/healthz`, gw.app.url]) {
      const init = (id?: string): RequestInit => ({
        method: url === gw.app.url ? 'POST' : 'GET',
        headers: {
          ...(url === gw.app.url ? { 'content-type': 'application/json' } : {}),
          ...(id !== undefined ? { 'x-request-id': id } : {}),
        },
        ...(url === gw.app.url ? { body: JSON.stringify({ query: '{ videoModels { id } }' }) } : {}),
      });
      const echoed = await fetch(url, init('req-123.abc:def'));
      expect(echoed.headers.get('x-request-id')).toBe('req-123.abc:def');

      const absent1 = (await fetch(url, init())).headers.get('x-request-id');
      const absent2 = (await fetch(url, init())).headers.get('x-request-id');
      expect(absent1).toMatch(UUID);
      expect(absent2).toMatch(UUID);
      expect(absent1).not.toBe(absent2);

      for (const invalid of ['', 'a'.repeat(65), 'has space', 'back\\slash', '<script>', 'a/b', '?x']) {
        const res = await fetch(url, init(invalid));
        const id = res.headers.get('x-request-id');
        expect(id).toMatch(UUID);
      }
    }
    // Also on error answers.
    const notFound = await fetch(`${origin(gw)}/nope`, { headers: { 'x-request-id': 'trace-404' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toBe('trace-404');
    const unauthorised = await fetch(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer vgw_wrong', 'x-request-id': 'trace-401' },
      body: JSON.stringify({ query: '{ videoModels { id } }' }),
    });
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('x-request-id')).toBe('trace-401');
  });

  it('should answer /readyz with 503 once the store is stopped', async () => {
    await gw.app.store.stop();
    const res = await getJson(`${origin(gw)}/readyz`);
    expect(res.status).toBe(503);
    expect(res.json.status).toBe('not ready');
    expect(res.json.checks.store).not.toBe('ok');
    // Liveness is unaffected.
    expect((await fetch(`${origin(gw)}/healthz`)).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  let dataDir: string;
  const gateways: TestGateway[] = [];
  let simulator: TestGateway['simulator'] | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'veo-gw-ops-'));
  });
  afterAll(async () => {
    for (const g of gateways.reverse()) await g.stop();
    await simulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'should close live subscriptions with 1001, stop within seconds, and leave the generation for the next instance',
    async () => {
      const first = await startGateway({ dataDir });
      gateways.push(first);
      simulator = first.simulator;
      const key = await first.keyFor('ops');
      // The upstream runs at real speed: the generation is still in flight at shutdown.
      first.simulator.control.setTimeScale(1);
      const { createVideoGeneration: g } = await gqlData(first, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'survive' } });

      let closedWith: number | undefined;
      const client = createClient({
        url: first.app.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
        lazy: true,
        on: { closed: (e) => (closedWith ??= (e as { code: number }).code) },
      });
      const sub = collect(client, WATCH, { id: g.id });
      await waitFor('the subscription', async () => ((await first.app.metrics.subscriptions.get()).values[0]?.value ?? 0) === 1);
      await waitFor('the snapshot', () => sub.values.length >= 1);

      const started = Date.now();
      await first.stop({ keepSimulator: true });
      const took = Date.now() - started;
      await sub.done;
      await client.dispose();

      expect(closedWith).toBe(1001);
      // A stop that waited for the generation would take its whole run (about 2 min at real speed): the
      // bound guards against that hang, with room for a store's close on a loaded machine.
      expect(took).toBeLessThan(30_000);
      const seen = sub.values.map((v) => v.videoGenerationUpdated.status);
      expect(seen).not.toContain('COMPLETED');
      // Requests are no longer served.
      await expect(fetch(`${origin(first)}/healthz`)).rejects.toThrow();

      // A new instance on the same data folder picks the generation up and finishes it.
      first.simulator.control.setTimeScale(0.01);
      const second = await startGateway({ dataDir, simulator: first.simulator });
      gateways.push(second);
      const resumed = await waitFor(
        'the generation to complete on the new instance',
        async () => {
          const got = (await gqlData(second, key, GET, { id: g.id })).videoGeneration;
          return got.status === 'COMPLETED' ? got : null;
        },
        15_000,
        100,
      );
      expect(resumed.upstreamId).toBe(g.upstreamId);
      expect(first.simulator.control.counts().create).toBe(1);
    },
    2 * START_TIMEOUT_MS + 60_000,
  ); // two gateway starts on a data folder, a stop and a generation's run
});
