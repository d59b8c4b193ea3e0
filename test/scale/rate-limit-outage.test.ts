/**
 * Per-owner rate limits kept in a real Redis that goes away mid-test: each authenticated request
 * falls back to this instance's own counters at once (it used to wait about 4 s in the Redis
 * client's offline queue first), and the limit still holds meanwhile; a frozen Redis costs at most
 * REDIS_COMMAND_TIMEOUT_MS (default 500 ms) instead of hanging the request.
 */
import { gql, useGateway, waitFor, within } from '../helpers/gateway';
import { describeWithServices, startRedis, type RedisServer } from '../helpers/services';

/** Under the up to 2 s per limiter the offline queue cost, and far over a loaded machine's request time. */
const FAST_MS = 600;
const LIST = '{ videoGenerations(first: 1) { nodes { id } } }';

describeWithServices('per-owner rate limits while Redis is away', () => {
  let redis: RedisServer;
  let key: string;

  beforeAll(async () => {
    redis = await startRedis();
  }, 60_000);
  const gw = useGateway(() => ({ env: { REDIS_URL: redis.url, QUOTA_REQUESTS_PER_SECOND: '3' } }), 60_000);
  beforeAll(async () => {
    key = await gw.keyFor('alice');
  });
  // After useGateway's: hooks after all tests run in the order declared, and the gateway stops first.
  afterAll(() => redis?.destroy());

  it('answers at once from the in-process fallback, and still refuses past the limit', async () => {
    expect((await gql(gw, key, LIST)).status).toBe(200);
    await redis.stop();
    // Long enough for the client's reconnect delay to reach its 2 s cap: a request then waited for
    // the next failed attempt, once per limiter it passed.
    await new Promise((r) => setTimeout(r, 3_000));

    const timed = async () => {
      const started = Date.now();
      const res = await gql(gw, key, LIST);
      return { status: res.status, ms: Date.now() - started };
    };
    const burst = await Promise.all(Array.from({ length: 6 }, timed));
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);

    await new Promise((r) => setTimeout(r, 1_100)); // a new one-second window
    const sequential = [];
    for (let i = 0; i < 3; i++) sequential.push(await timed());
    expect(sequential.map((r) => r.status)).toEqual([200, 200, 200]);
    for (const { ms } of [...burst, ...sequential]) expect(ms).toBeLessThan(FAST_MS);
  }, 60_000);

  it('answers at once while Redis is frozen (connections open, no answers), within REDIS_COMMAND_TIMEOUT_MS', async () => {
    await redis.start();
    await waitFor('Redis to be back', async () => (await fetch(gw.app.url.replace('/graphql', '/readyz'))).status === 200, 20_000, 100);
    redis.pause();
    try {
      const started = Date.now();
      const res = await within('a request while Redis is frozen', gql(gw, key, LIST), 10_000);
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(500 + FAST_MS);
    } finally {
      redis.resume();
    }
  }, 60_000);
});
