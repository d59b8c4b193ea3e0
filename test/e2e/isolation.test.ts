/**
 * Tenant isolation (reference/reliability-security.md §4.6) and authentication, as a client sees
 * them: another owner's generation looks exactly like one that does not exist, on every path.
 */
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CREATE,
  GET,
  WATCH,
  WATCH_ALL,
  collect,
  gql,
  gqlData,
  sleep,
  waitFor,
  within,
  wsClient,
  type TestGateway,
  useGateway,
} from '../helpers/gateway';

const CANCEL = `mutation Cancel($id: ID!) { cancelVideoGeneration(id: $id) { id status } }`;
const LIST = `query List($filter: VideoGenerationFilter) {
  videoGenerations(first: 100, filter: $filter) { nodes { id } edges { node { id } } }
}`;

/** Active subscriptions on the gateway, from its own gauge. */
async function activeSubscriptions(gw: TestGateway): Promise<number> {
  return (await gw.app.metrics.subscriptions.get()).values[0]?.value ?? 0;
}

/** A graphql-ws client with arbitrary connection params; reports the close code. */
function rawParamsClient(gw: TestGateway, connectionParams?: Record<string, unknown>): { client: Client; closed: Promise<number> } {
  let onClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: gw.app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => onClosed((e as { code: number }).code) },
  });
  return { client, closed };
}

describe('tenant isolation', () => {
  // Real-world time scale: alice's generation stays in flight for the whole file.
  const gw = useGateway({ timeScale: 1 });
  let alice: string;
  let bob: string;
  let aliceGen: { id: string; status: string };
  const clients: Client[] = [];

  beforeAll(async () => {
    alice = await gw.keyFor('alice');
    bob = await gw.keyFor('bob');
    aliceGen = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'alice private clip' } })).createVideoGeneration;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  it("should answer bob reading alice's generation with the same NOT_FOUND as an unknown or garbage id", async () => {
    const owned = await gql(gw, alice, GET, { id: aliceGen.id });
    expect(owned.body.data?.videoGeneration.id).toBe(aliceGen.id);

    const answers = await Promise.all([aliceGen.id, randomUUID(), 'not-a-uuid', "' OR 1=1 --"].map((id) => gql(gw, bob, GET, { id })));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.body.data?.videoGeneration ?? null).toBeNull();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0]!.extensions?.code).toBe('NOT_FOUND');
    }
    // No existence oracle: the error for alice's id is identical to the one for a random UUID.
    const strip = (r: (typeof answers)[number]) => JSON.stringify(r.body);
    expect(strip(answers[0]!)).toBe(strip(answers[1]!));
    expect(strip(answers[0]!)).toBe(strip(answers[2]!));
    expect(answers[0]!.text).not.toContain('alice');
  });

  it("should answer bob cancelling alice's generation with NOT_FOUND and leave it unchanged", async () => {
    const before = (await gqlData(gw, alice, GET, { id: aliceGen.id })).videoGeneration;
    for (const id of [aliceGen.id, randomUUID(), 'garbage']) {
      const res = await gql(gw, bob, CANCEL, { id });
      expect(res.status).toBe(200);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    const after = (await gqlData(gw, alice, GET, { id: aliceGen.id })).videoGeneration;
    expect(['QUEUED', 'GENERATING']).toContain(after.status);
    expect(after.error).toBeNull();
    expect(after.completedAt).toBeNull();
    expect(after.transitions.map((t: { status: string }) => t.status)).not.toContain('CANCELLED');
    expect(after.version).toBeGreaterThanOrEqual(before.version);
  });

  it("should never list alice's generation for bob, with or without filters", async () => {
    const bobOwn = (await gqlData(gw, bob, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'bob clip' } })).createVideoGeneration;
    const filters = [
      undefined,
      { status: ['QUEUED', 'GENERATING'] },
      { model: ['google/veo-3.0-fast'] },
      { status: ['QUEUED', 'GENERATING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'], model: ['google/veo-3.0-fast'] },
    ];
    for (const filter of filters) {
      const data = await gqlData(gw, bob, LIST, { filter });
      const ids = [...data.videoGenerations.nodes, ...data.videoGenerations.edges.map((e: any) => e.node)].map((n: { id: string }) => n.id);
      expect(ids).not.toContain(aliceGen.id);
      expect(new Set(ids)).toEqual(new Set([bobOwn.id]));
    }
    // Control: alice does see hers (and not bob's).
    const aliceIds = (await gqlData(gw, alice, LIST, {})).videoGenerations.nodes.map((n: { id: string }) => n.id);
    expect(aliceIds).toContain(aliceGen.id);
    expect(aliceIds).not.toContain(bobOwn.id);
  });

  it("should refuse bob subscribing to alice's generation with NOT_FOUND and no event", async () => {
    for (const id of [aliceGen.id, randomUUID()]) {
      const client = wsClient(gw, bob);
      clients.push(client);
      const sub = collect(client, WATCH, { id });
      await sub.done; // the test timeout bounds it
      expect(sub.values).toEqual([]);
      expect(sub.errors).toHaveLength(1);
      expect((sub.errors[0] as { extensions?: { code?: string } }).extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(sub.errors)).not.toContain('alice');
    }
  });

  it("should send none of alice's changes to bob's videoGenerationsUpdated", async () => {
    const bobClient = wsClient(gw, bob);
    const aliceClient = wsClient(gw, alice);
    clients.push(bobClient, aliceClient);
    const base = await activeSubscriptions(gw);
    const bobAll = collect(bobClient, WATCH_ALL);
    const bobCancelled = collect(bobClient, WATCH_ALL, { status: ['CANCELLED'] });
    const aliceAll = collect(aliceClient, WATCH_ALL);
    await waitFor('three live subscriptions', async () => (await activeSubscriptions(gw)) >= base + 3);

    const created = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'alice second clip' } }))
      .createVideoGeneration;
    await gqlData(gw, alice, CANCEL, { id: created.id });
    await waitFor('alice to see her cancellation', () =>
      aliceAll.values.some((v) => v.videoGenerationsUpdated.id === created.id && v.videoGenerationsUpdated.status === 'CANCELLED'),
    );
    await sleep(200); // room for a wrongly routed event to arrive
    expect(bobAll.values).toEqual([]);
    expect(bobCancelled.values).toEqual([]);
    expect(bobAll.errors).toEqual([]);
    bobAll.unsubscribe();
    bobCancelled.unsubscribe();
    aliceAll.unsubscribe();
  });
});

describe('authentication', () => {
  const gw = useGateway();
  const clients: Client[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  it('should answer a revoked key with HTTP 401 UNAUTHENTICATED', async () => {
    const key = await gw.keyFor('carol');
    expect((await gql(gw, key, LIST)).status).toBe(200);
    // The key's lookup is now cached (API_KEY_CACHE_MS); a revocation through this process (app.revokeApiKey)
    // clears that cache, so it takes effect at once. One made by another process would take up to
    // the TTL (see src/auth/api-key-cache.ts).
    expect(await gw.app.revokeApiKey(key.slice(0, 12))).toBe(1);
    for (const query of [LIST, '{ videoModels { id } }']) {
      const res = await gql(gw, key, query);
      expect(res.status).toBe(401);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('should serve an owner whose name is "invalid" like any other owner', async () => {
    // The owner pattern allows the name; authentication's refusal must not be spelled the same way.
    const key = await gw.keyFor('invalid');
    const res = await gql(gw, key, LIST);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.videoGenerations.nodes).toEqual([]);
  });

  it('should answer an unknown key exactly like a revoked one', async () => {
    const revoked = await gw.keyFor('dave');
    await gw.app.revokeApiKey(revoked.slice(0, 12));
    const unknown = `vgw_${'A'.repeat(32)}`;
    const [a, b] = await Promise.all([gql(gw, revoked, LIST), gql(gw, unknown, LIST)]);
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.text).toBe(b.text);
  });

  it('should require a key for generations but serve videoModels without one', async () => {
    for (const [query, variables] of [
      [LIST, {}],
      [GET, { id: randomUUID() }],
      [CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'anonymous' } }],
      [CANCEL, { id: randomUUID() }],
    ] as const) {
      const res = await gql(gw, null, query, variables);
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      // Nothing leaks: no data at all, or only the nullable field set to null.
      expect(Object.values(res.body.data ?? {}).filter((v) => v !== null)).toEqual([]);
    }
    expect(gw.simulator.control.counts().create).toBe(0);

    const models = await gql(gw, null, '{ videoModels { id } }');
    expect(models.status).toBe(200);
    expect(models.body.errors).toBeUndefined();
    expect(models.body.data.videoModels.length).toBeGreaterThan(0);
  });

  it('should close a WebSocket without a key, or with a bad or revoked key, with 4403', async () => {
    const revoked = await gw.keyFor('erin');
    await gw.app.revokeApiKey(revoked.slice(0, 12));
    const cases: Array<Record<string, unknown> | undefined> = [
      undefined,
      {},
      { authorization: 'Bearer vgw_nope' },
      { authorization: 'Basic abc' },
      { authorization: `Bearer ${revoked}` },
      { apiKey: revoked },
      { authorization: 42 },
    ];
    for (const params of cases) {
      const { client, closed } = rawParamsClient(gw, params);
      clients.push(client);
      const sub = collect(client, WATCH_ALL);
      expect(await closed).toBe(4403);
      await sub.done;
      expect(sub.values).toEqual([]);
    }
  });

  it('should close with 4403 before anything is served even when a valid key is sent as a bare string', async () => {
    // Raw ws: connection_init carrying a key in an unsupported place; no ack, then 4403.
    const socket = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws');
    const frames: string[] = [];
    socket.on('message', (d) => frames.push(String(d)));
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { token: await gw.keyFor('frank') } }));
    const code = await new Promise<number>((r) => socket.once('close', (c) => r(c)));
    expect(code).toBe(4403);
    expect(frames).toEqual([]);
  });

  it('should close with 4403 a valid key sent as a raw `apiKey` param: only `authorization: Bearer …` is read', async () => {
    const valid = await gw.keyFor('ivy');
    for (const params of [{ apiKey: valid }, { apiKey: `Bearer ${valid}` }]) {
      const { client, closed } = rawParamsClient(gw, params);
      clients.push(client);
      const sub = collect(client, WATCH_ALL);
      expect(await closed).toBe(4403);
      await sub.done;
      expect(sub.values).toEqual([]);
    }
    // The same key in the documented place is served.
    const { client, closed } = rawParamsClient(gw, { authorization: `Bearer ${valid}` });
    clients.push(client);
    collect(client, WATCH_ALL);
    expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r('open'), 500))])).toBe('open');
  });
});

describe('revoking a key with sockets open', () => {
  // Rechecked every 200 ms; the key cache is off, so a revocation made straight in the store (as
  // the key CLI or another instance makes it) is what the recheck sees.
  const gw = useGateway({ env: { WS_CREDENTIAL_RECHECK_MS: '200', API_KEY_CACHE_MS: '0' } });

  it('should close the revoked key’s sockets with 4403 and keep the others open', async () => {
    const [revoked, kept] = [await gw.keyFor('gina'), await gw.keyFor('hank')];
    const a = rawParamsClient(gw, { authorization: `Bearer ${revoked}` });
    const b = rawParamsClient(gw, { authorization: `Bearer ${kept}` });
    const [subA, subB] = [collect(a.client, WATCH_ALL), collect(b.client, WATCH_ALL)];
    await waitFor('both subscriptions', async () => (await activeSubscriptions(gw)) === 2);

    expect(await gw.app.store.revokeApiKey(revoked.slice(0, 12), new Date())).toBe(1);
    expect(await within('the revoked key’s socket to close', a.closed, 5_000)).toBe(4403);
    await subA.done;

    // The other owner's socket still streams: a generation it creates reaches it.
    const { createVideoGeneration } = await gqlData(gw, kept, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'still here' } });
    await waitFor('the kept socket to see its generation', () => subB.values.some((v) => v.videoGenerationsUpdated?.id === createVideoGeneration.id));
    await b.client.dispose();
  });
});
