/**
 * Per-owner quotas through the real server: over a limit the answer is RATE_LIMITED with
 * retryAfterSeconds, and nothing reaches the upstream (the simulator's counts prove it).
 */
import { CREATE, WATCH_ALL, collect, gql, gqlData, sleep, waitFor, within, wsClient, useGateway } from '../helpers/gateway';

const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a quiet harbour' };
const LIST = '{ videoGenerations { nodes { id status } } }';

describe('creations per minute', () => {
  const gw = useGateway({ env: { QUOTA_CREATES_PER_MINUTE: '2' } });

  it('refuses the third create in a minute without sending it, per owner', async () => {
    const alice = await gw.keyFor('quota-alice');
    await gqlData(gw, alice, CREATE, { input: INPUT });
    await gqlData(gw, alice, CREATE, { input: INPUT });
    const sent = gw.simulator.control.counts().create;

    const refused = await gql(gw, alice, CREATE, { input: INPUT });
    expect(refused.body.data ?? null).toBeNull();
    const error = refused.body.errors![0]!;
    expect(error.extensions!.code).toBe('RATE_LIMITED');
    expect(error.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.extensions!.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(error.message).toMatch(/2 generations per minute/);
    expect(gw.simulator.control.counts().create).toBe(sent);
    expect((await gqlData(gw, alice, LIST)).videoGenerations.nodes).toHaveLength(2);

    // Another owner has a budget of their own.
    const bob = await gw.keyFor('quota-bob');
    expect((await gqlData(gw, bob, CREATE, { input: INPUT })).createVideoGeneration.status).toBe('QUEUED');
    expect(gw.simulator.control.counts().create).toBe(sent + 1);
  });

  it('does not spend the quota on an idempotent replay', async () => {
    const carol = await gw.keyFor('quota-carol');
    const input = { ...INPUT, idempotencyKey: 'carol-1' };
    const first = (await gqlData(gw, carol, CREATE, { input })).createVideoGeneration;
    for (let i = 0; i < 3; i++) expect((await gqlData(gw, carol, CREATE, { input })).createVideoGeneration.id).toBe(first.id);
    expect((await gqlData(gw, carol, CREATE, { input: INPUT })).createVideoGeneration.status).toBe('QUEUED');
  });
});

describe('generations in flight', () => {
  const gw = useGateway({ timeScale: 1, env: { QUOTA_MAX_IN_FLIGHT: '2' } });
  // Real-time jobs (about a minute and a half) stay in flight for the whole test.

  it('refuses a create beyond the limit until one ends, sending nothing meanwhile', async () => {
    const key = await gw.keyFor('inflight-dave');
    const a = (await gqlData(gw, key, CREATE, { input: INPUT })).createVideoGeneration;
    await gqlData(gw, key, CREATE, { input: INPUT });
    const sent = gw.simulator.control.counts().create;

    const refused = await gql(gw, key, CREATE, { input: INPUT });
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 2 });
    expect(refused.body.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(gw.simulator.control.counts().create).toBe(sent);
    expect((await gqlData(gw, key, LIST)).videoGenerations.nodes).toHaveLength(2);

    // Cancelling one ends it for the gateway: the slot is free again.
    await gqlData(gw, key, `mutation { cancelVideoGeneration(id: "${a.id}") { status } }`);
    expect((await gqlData(gw, key, CREATE, { input: INPUT })).createVideoGeneration.status).toBe('QUEUED');
    expect(gw.simulator.control.counts().create).toBe(sent + 1);
  });

  it('never lets a burst of parallel creates past the limit', async () => {
    const key = await gw.keyFor('inflight-erin');
    const sent = gw.simulator.control.counts().create;
    const results = await Promise.all(Array.from({ length: 6 }, () => gql(gw, key, CREATE, { input: INPUT })));
    const accepted = results.filter((r) => r.body.data?.createVideoGeneration);
    const refused = results.filter((r) => r.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(accepted.length + refused.length).toBe(6);
    // Racing creates may all see each other and all be refused; never more than the limit get through.
    expect(accepted.length).toBeLessThanOrEqual(2);
    expect(gw.simulator.control.counts().create).toBe(sent + accepted.length);
    const inFlight = (await gqlData(gw, key, LIST)).videoGenerations.nodes.filter((g: any) => g.status !== 'CANCELLED');
    expect(inFlight).toHaveLength(accepted.length);
  });
});

describe('operations per second', () => {
  const gw = useGateway({ env: { QUOTA_REQUESTS_PER_SECOND: '4' } });

  it('answers HTTP requests over the limit with 429, RATE_LIMITED and Retry-After', async () => {
    const key = await gw.keyFor('rps-frank');
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(gw.app.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: '{ videoModels { id } }' }),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(6);
    const body = (await limited[0]!.json()) as any;
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(body.errors[0].extensions.retryAfterSeconds).toBe(1);
    expect(limited[0]!.headers.get('retry-after')).toBe('1');

    // A second later the budget is back.
    await sleep(1_100);
    expect((await gql(gw, key, '{ videoModels { id } }')).status).toBe(200);
    // Another owner was never limited by this one.
    expect((await gql(gw, await gw.keyFor('rps-grace'), '{ videoModels { id } }')).status).toBe(200);
  });

  it('counts WebSocket subscribes against the same budget and refuses them with RATE_LIMITED', async () => {
    const key = await gw.keyFor('rps-heidi');
    await sleep(1_100);
    const client = wsClient(gw, key);
    try {
      const subs = Array.from({ length: 8 }, () => collect(client, WATCH_ALL));
      const refused = await waitFor('refusals', () => {
        const errors = subs.flatMap((s) => s.errors) as any[];
        return errors.length >= 4 ? errors : null;
      });
      const codes = refused.map((e) => (Array.isArray(e) ? e[0] : e)?.extensions?.code);
      expect(codes.every((c) => c === 'RATE_LIMITED')).toBe(true);
      // Still open: the accepted subscriptions keep running.
      const open = subs.filter((s) => s.errors.length === 0);
      expect(open.length).toBeLessThanOrEqual(4);
      expect(open.length).toBeGreaterThanOrEqual(1);
      for (const s of subs) s.unsubscribe();
      await within('unsubscribes', Promise.all(open.map((s) => s.done)), 2_000);
    } finally {
      await client.dispose();
    }
  });
});
