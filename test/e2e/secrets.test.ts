/**
 * Secrets (reference/reliability-security.md §4.7): the upstream key, planted as a canary, never
 * reaches a client (HTTP body or header, WebSocket frame, close reason) or a log line, even when
 * the upstream echoes it back; the gateway's own API keys never reach a log line either.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CREATE, GET, SIMULATOR_KEY, WATCH, WATCH_ALL, collect, waitFor, type TestGateway, useGateway } from '../helpers/gateway';

const CANCEL = `mutation Cancel($id: ID!) { cancelVideoGeneration(id: $id) { id status error { code message upstream } } }`;
const LIST = `query List($filter: VideoGenerationFilter) {
  videoGenerations(first: 100, filter: $filter) { nodes { id status error { code message upstream } } }
}`;

/** Everything a client could see, for one gateway. */
class Exposure {
  readonly http: string[] = [];
  readonly frames: string[] = [];
  readonly closeReasons: string[] = [];

  async fetch(url: string, init: RequestInit = {}): Promise<{ status: number; json: any; text: string }> {
    const res = await fetch(url, init);
    const text = await res.text();
    this.http.push(`${res.status} ${JSON.stringify([...res.headers.entries()])}\n${text}`);
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  gql(gw: TestGateway, key: string | null, query: string, variables?: Record<string, unknown>) {
    return this.fetch(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key !== null ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  }

  /** A graphql-ws client recording every frame and the close reason. */
  ws(gw: TestGateway, connectionParams: Record<string, unknown> | undefined): { client: Client; closed: Promise<number> } {
    const frames = this.frames;
    const reasons = this.closeReasons;
    class Recording extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        this.on('message', (data) => frames.push(String(data)));
        this.on('close', (code, reason) => reasons.push(`${code} ${reason.toString()}`));
      }
    }
    let onClosed!: (code: number) => void;
    const closed = new Promise<number>((r) => (onClosed = r));
    const client = createClient({
      url: gw.app.wsUrl,
      webSocketImpl: Recording,
      connectionParams,
      retryAttempts: 0,
      lazy: true,
      on: { closed: (e) => onClosed((e as { code: number }).code) },
    });
    return { client, closed };
  }

  everything(): string {
    return [...this.http, ...this.frames, ...this.closeReasons].join('\n');
  }
}

const echo = (where: string) => ({
  message: `${where}: invalid credentials Bearer ${SIMULATOR_KEY}`,
  error: { authorization: `Bearer ${SIMULATOR_KEY}`, apiKey: SIMULATOR_KEY, raw: SIMULATOR_KEY },
  headers: { Authorization: `Bearer ${SIMULATOR_KEY}` },
});

describe.each(['info', 'debug', 'trace'])('secrets with LOG_LEVEL=%s', (level) => {
  const seen = new Exposure();
  const clients: Client[] = [];
  const gatewayKeys: string[] = [];

  // Declared first, so that the gateway stops after the clients are disposed.
  afterAll(() => Promise.all(clients.map((c) => c.dispose())));
  const gw = useGateway({ env: { LOG_LEVEL: level } });

  it('should keep the upstream key and API keys out of every response, frame, close reason and log line', async () => {
    const alice = await gw.keyFor('alice');
    const bob = await gw.keyFor('bob');
    const revoked = await gw.keyFor('mallory');
    await gw.app.revokeApiKey(revoked.slice(0, 12));
    gatewayKeys.push(alice, bob, revoked);
    const control = gw.simulator.control;
    const input = (prompt: string) => ({ input: { model: 'google/veo-3.0-fast', prompt } });

    // A live watcher of everything alice does, over WebSocket.
    const aliceWs = seen.ws(gw, { authorization: `Bearer ${alice}` });
    clients.push(aliceWs.client);
    const all = collect(aliceWs.client, WATCH_ALL);
    await waitFor('the watcher', async () => ((await gw.app.metrics.subscriptions.get()).values[0]?.value ?? 0) >= 1);

    // Happy path: create, watch to completion, get, list.
    const ok = await seen.gql(gw, alice, CREATE, input('a quiet harbour'));
    expect(ok.json.data.createVideoGeneration.status).toBe('QUEUED');
    const okId = ok.json.data.createVideoGeneration.id;
    const watch = collect(aliceWs.client, WATCH, { id: okId });
    await watch.done;
    expect(watch.values.at(-1)?.videoGenerationUpdated.status).toBe('COMPLETED');
    await seen.gql(gw, alice, GET, { id: okId });
    await seen.gql(gw, alice, LIST, {});

    // Cancel an in-flight one (slow the simulator down for it), and an ended one.
    control.setTimeScale(1);
    const slow = await seen.gql(gw, alice, CREATE, input('a slow one'));
    const slowId = slow.json.data.createVideoGeneration.id;
    expect((await seen.gql(gw, alice, CANCEL, { id: slowId })).json.data.cancelVideoGeneration.status).toBe('CANCELLED');
    await seen.gql(gw, alice, CANCEL, { id: okId });
    control.setTimeScale(0.01);

    // The upstream refuses the create and echoes the key back (400), then claims it is wrong (401).
    control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 400, body: echo('create 400') } });
    const rejected = await seen.gql(gw, alice, CREATE, input('rejected'));
    expect(rejected.json.errors?.[0]?.extensions?.code).toBe('UPSTREAM_REJECTED');
    control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 401, body: echo('create 401') } });
    const unauthorised = await seen.gql(gw, alice, CREATE, input('unauthorised'));
    expect(unauthorised.json.errors?.length ?? 0).toBeGreaterThan(0);
    // A 5xx with the key in its body, and an HTML page.
    control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 503, body: echo('create 503') } });
    const unavailable = await seen.gql(gw, alice, CREATE, input('unavailable'));
    expect(unavailable.json.errors?.length ?? 0).toBeGreaterThan(0);

    // Polls that fail with the key echoed, then a job whose own error payload carries the key.
    control.injectFault({ endpoint: 'poll', times: 2, action: { kind: 'status', status: 400, body: echo('poll 400') } });
    const failing = await seen.gql(gw, alice, CREATE, input('fails upstream'));
    const failingId = failing.json.data.createVideoGeneration.id;
    const upstreamId = (await waitFor('an upstream id', async () => {
      const g = (await seen.gql(gw, alice, GET, { id: failingId })).json.data?.videoGeneration;
      return g?.upstreamId;
    })) as string;
    control.forceOutcome(upstreamId, 'error', echo('job error'));
    const failedWatch = collect(aliceWs.client, WATCH, { id: failingId });
    await failedWatch.done;
    expect(failedWatch.values.at(-1)?.videoGenerationUpdated.status).toBe('FAILED');
    await seen.gql(gw, alice, GET, { id: failingId });
    await seen.gql(gw, alice, LIST, { filter: { status: ['FAILED'] } });

    // Client errors: bad input, unknown id, another owner, no key, revoked key, a key-shaped garbage key.
    await seen.gql(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: '' } });
    await seen.gql(gw, alice, GET, { id: 'nope' });
    await seen.gql(gw, bob, GET, { id: okId });
    await seen.gql(gw, null, LIST, {});
    await seen.gql(gw, revoked, LIST, {});
    await seen.gql(gw, `vgw_${SIMULATOR_KEY}`, LIST, {});
    await seen.gql(gw, SIMULATOR_KEY, LIST, {});
    await seen.fetch(gw.app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query": "${SIMULATOR_KEY}` });
    await seen.gql(gw, alice, `{ ${SIMULATOR_KEY} }`);
    await seen.fetch(`${new URL(gw.app.url).origin}/healthz`);
    await seen.fetch(`${new URL(gw.app.url).origin}/readyz`);
    await seen.fetch(`${new URL(gw.app.url).origin}/metrics`);

    // WebSocket refusals: bad keys (4403), a query over WS, an unknown id, a frame too large (1009).
    for (const params of [{ authorization: `Bearer ${revoked}` }, { authorization: `Bearer ${SIMULATOR_KEY}` }, undefined]) {
      const bad = seen.ws(gw, params);
      clients.push(bad.client);
      const sub = collect(bad.client, WATCH_ALL);
      expect(await bad.closed).toBe(4403);
      await sub.done;
    }
    const refused = collect(aliceWs.client, GET, { id: okId });
    await refused.done;
    const unknown = collect(aliceWs.client, WATCH, { id: SIMULATOR_KEY });
    await unknown.done;
    const big = seen.ws(gw, { authorization: `Bearer ${alice}` });
    clients.push(big.client);
    const bigSub = collect(big.client, `subscription { videoGenerationsUpdated { id } } # ${SIMULATOR_KEY.repeat(3_000)}`);
    expect(await big.closed).toBe(1009);
    await bigSub.done;

    all.unsubscribe();
    await aliceWs.client.dispose();
    await waitFor('the connections to close', async () => ((await gw.app.metrics.wsConnections.get()).values[0]?.value ?? 0) === 0);

    // What clients saw.
    expect(seen.http.length).toBeGreaterThan(20);
    expect(seen.frames.length).toBeGreaterThan(5);
    expect(seen.closeReasons.length).toBeGreaterThanOrEqual(4);
    expect(seen.everything()).not.toContain(SIMULATOR_KEY);
    // The job's own error payload is still shown, with the key cut out.
    expect(seen.frames.join('\n')).toContain('job error');

    // What the logs hold.
    const logs = gw.logs.join('');
    expect(gw.logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(SIMULATOR_KEY);
    for (const key of gatewayKeys) {
      expect(logs).not.toContain(key);
      // Not even the secret part after the shown prefix.
      expect(logs).not.toContain(key.slice(12));
    }
  });
});

describe('encoded, re-cased and split copies of the upstream key', () => {
  const gw = useGateway();

  const half = Math.floor(SIMULATOR_KEY.length / 2);
  const copies = [
    SIMULATOR_KEY.toUpperCase(),
    Buffer.from(SIMULATOR_KEY).toString('base64'),
    `Basic ${Buffer.from(`api:${SIMULATOR_KEY}`).toString('base64url')}`,
    Buffer.from(SIMULATOR_KEY).toString('hex'),
    [...Buffer.from(SIMULATOR_KEY)].map((b) => `%${b.toString(16)}`).join(''),
    `${SIMULATOR_KEY.slice(0, half)} ${SIMULATOR_KEY.slice(half)}`,
  ];
  const echoCopies = (where: string) => ({ message: `${where}: bad key ${copies.join(' | ')}`, error: { seen: copies } });

  /** Any 8-character run of the key (case-insensitive), or any whole copy. */
  function leaks(text: string): string[] {
    const found = copies.filter((c) => text.includes(c));
    for (let i = 0; i + 8 <= SIMULATOR_KEY.length; i++) {
      const run = SIMULATOR_KEY.slice(i, i + 8).toLowerCase();
      if (text.toLowerCase().includes(run)) found.push(run);
    }
    return found;
  }

  it('should reach no client (UPSTREAM_REJECTED, error.upstream) and no log line', async () => {
    const alice = await gw.keyFor('alice');
    const seen = new Exposure();
    const input = (prompt: string) => ({ input: { model: 'google/veo-3.0-fast', prompt } });
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 400, body: echoCopies('create 400') } });
    const rejected = await seen.gql(gw, alice, CREATE, input('rejected'));
    expect(rejected.json.errors?.[0]?.extensions?.code).toBe('UPSTREAM_REJECTED');
    expect(rejected.json.errors[0].message).toContain('bad key');

    // Slow enough that the forced outcome lands before the job would complete.
    gw.simulator.control.setTimeScale(1);
    const failing = await seen.gql(gw, alice, CREATE, input('fails upstream'));
    const id = failing.json.data.createVideoGeneration.id;
    const upstreamId = (await waitFor(
      'an upstream id',
      async () => (await seen.gql(gw, alice, GET, { id })).json.data?.videoGeneration?.upstreamId,
    )) as string;
    gw.simulator.control.forceOutcome(upstreamId, 'error', echoCopies('job error'));
    const failed = await waitFor('the failure', async () => {
      const g = (await seen.gql(gw, alice, `query($id: ID!) { videoGeneration(id: $id) { status error { code message upstream } } }`, { id })).json
        .data?.videoGeneration;
      return g?.status === 'FAILED' ? g : null;
    });
    expect(JSON.stringify(failed.error.upstream)).toContain('job error');

    expect(leaks(seen.everything())).toEqual([]);
    expect(leaks(gw.logs.join(''))).toEqual([]);
  });
});
