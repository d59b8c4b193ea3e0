import { Redis } from 'ioredis';
import pino from 'pino';
import { LocalRequestBudget, type RequestBudget } from '../../../../src/upstream/budget/request-budget';
import { SharedRequestBudget } from '../../../../src/upstream/budget/shared-request-budget';
import { describeWithServices, startRedis, type RedisServer } from '../../../helpers/services';

const silent = pino({ level: 'silent' });

describe('LocalRequestBudget (a token bucket in this process)', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 1_000_000));

  it('starts empty and refills at the rate, never beyond the burst', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 5 }, now);
    expect(await budget.take(8)).toEqual({ granted: 0, retryInMs: 100 });
    clock += 250; // 2.5 tokens
    expect((await budget.take(8)).granted).toBe(2);
    clock += 60_000; // long idle: still only the burst
    expect((await budget.take(100)).granted).toBe(5);
    expect((await budget.take(1)).granted).toBe(0);
  });

  it('in any stretch of time grants at most burst + rate × seconds', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 20, burst: 4 }, now);
    clock += 10_000; // full
    let granted = 0;
    for (let step = 0; step < 100; step++) {
      clock += 10; // 1 s in all
      granted += (await budget.take(3)).granted;
    }
    expect(granted).toBeLessThanOrEqual(4 + 20);
    expect(granted).toBeGreaterThanOrEqual(20);
  });

  it('gives back what was refunded, capped at the burst', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 3 }, now);
    clock += 1_000;
    expect((await budget.take(3)).granted).toBe(3);
    await budget.refund(10);
    expect((await budget.take(10)).granted).toBe(3);
  });

  it('a rebook counts tokens taken earlier as taken now: what came since cannot be spent on top of them', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 5 }, now);
    clock += 1_000; // full: 5
    expect((await budget.take(5)).granted).toBe(5);
    clock += 700; // a slow claim: 7 tokens' worth of refill, 5 held by the bucket
    await budget.rebook(5);
    // Taken at send time from a full bucket, the 5 leave it empty: nothing more until it refills.
    expect((await budget.take(10)).granted).toBe(0);
    clock += 1_000;
    expect((await budget.take(10)).granted).toBe(5);
  });

  it('a rebook changes nothing while the bucket stayed below its burst: reservations made meanwhile keep their slots', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 5 }, now);
    clock += 1_000;
    expect((await budget.take(5)).granted).toBe(5);
    for (let i = 0; i < 3; i++) expect((await budget.reserve(1_000)).ok).toBe(true); // -3
    await budget.rebook(5);
    expect(await budget.reserve(1_000)).toEqual({ ok: true, waitMs: 400 });
  });

  it('a reservation borrows future tokens up to the allowed wait, ahead of takers, and is refused beyond it', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 5 }, now);
    expect(await budget.reserve(1_000)).toEqual({ ok: true, waitMs: 100 });
    expect(await budget.reserve(1_000)).toEqual({ ok: true, waitMs: 200 });
    clock += 200; // the two borrowed tokens are paid back: nothing for a taker yet
    expect((await budget.take(1)).granted).toBe(0);
    expect(await budget.reserve(50)).toEqual({ ok: false, retryInMs: 100 });
  });

  it('while reservations hold it in debt, a take gets nothing and leaves the debt as it was', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 5 }, now);
    for (let i = 0; i < 3; i++) expect((await budget.reserve(1_000)).ok).toBe(true); // 3 tokens borrowed
    clock += 50; // -2.5 tokens
    expect(await budget.take(4)).toEqual({ granted: 0, retryInMs: 350 });
    // Had the take "granted" a negative count, the debt would be forgotten and this reservation could wait less.
    expect(await budget.reserve(1_000)).toEqual({ ok: true, waitMs: 350 });
  });
});

describeWithServices('SharedRequestBudget (one bucket in Redis)', () => {
  let redis: RedisServer;
  let clients: Redis[] = [];
  const client = () => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    redis = await startRedis();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    clients = [];
  });
  afterAll(() => redis?.destroy(), 60_000);

  const ready = async (c: Redis) => {
    if (c.status !== 'ready') await new Promise((r) => c.once('ready', r));
    return c;
  };

  it('two instances share one budget: together they never get more than burst + rate × elapsed, starting empty', async () => {
    const settings = { ratePerSecond: 40, burst: 5 };
    const key = `test-budget-${Date.now()}`;
    const a: RequestBudget = new SharedRequestBudget(settings, await ready(client()), silent, key);
    const b: RequestBudget = new SharedRequestBudget(settings, await ready(client()), silent, key);
    const start = Date.now();
    let granted = 0;
    // Bounded: 60 rounds of both asking for 3 at once.
    for (let round = 0; round < 60; round++) {
      const [x, y] = await Promise.all([a.take(3), b.take(3)]);
      granted += x.granted + y.granted;
      const elapsedS = (Date.now() - start) / 1000;
      expect(granted).toBeLessThanOrEqual(Math.floor(40 * elapsedS) + 1);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(granted).toBeGreaterThan(0);
  }, 60_000);

  it('a reservation made by one instance is a token the other cannot take', async () => {
    const settings = { ratePerSecond: 2, burst: 2 };
    const key = `test-budget-reserve-${Date.now()}`;
    const a = new SharedRequestBudget(settings, await ready(client()), silent, key);
    const b = new SharedRequestBudget(settings, await ready(client()), silent, key);
    const first = await a.reserve(5_000);
    expect(first.ok).toBe(true);
    expect((await b.take(1)).granted).toBe(0);
    const refused = await b.reserve(0);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryInMs).toBeGreaterThan(0);
  }, 60_000);

  it('a rebook in Redis counts tokens taken earlier as taken now, for every instance', async () => {
    const settings = { ratePerSecond: 2, burst: 3 };
    const key = `test-budget-rebook-${Date.now()}`;
    const a = new SharedRequestBudget(settings, await ready(client()), silent, key);
    const b = new SharedRequestBudget(settings, await ready(client()), silent, key);
    await a.refund(3); // full (a refund is capped at the burst)
    expect((await a.take(3)).granted).toBe(3);
    await a.refund(3); // as if it had refilled to its burst meanwhile
    await a.rebook(3); // the 3 counted as spent now: empty again, for b too
    expect((await b.take(1)).granted).toBe(0);
    // While it stays below its burst, a rebook changes nothing: b's booking keeps its slot.
    expect((await b.reserve(5_000)).ok).toBe(true);
    await a.rebook(1);
    const next = await b.reserve(5_000);
    expect(next.ok && next.waitMs).toBeGreaterThan(500);
    expect(next.ok && next.waitMs).toBeLessThanOrEqual(1_000);
  }, 60_000);

  it('while Redis does not answer, counts in this process with the same settings', async () => {
    const c = await ready(client());
    const budget = new SharedRequestBudget({ ratePerSecond: 10, burst: 5 }, c, silent, `test-budget-outage-${Date.now()}`);
    c.disconnect();
    const taken = await budget.take(5);
    // The local bucket starts empty too: nothing at once, a wait of one token.
    expect(taken.granted).toBe(0);
    expect(taken.retryInMs).toBeGreaterThan(0);
  }, 60_000);
});
