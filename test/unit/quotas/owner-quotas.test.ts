/**
 * The quota counters, in memory and in a real Redis (a `redis-server` this test starts on a free
 * port): with Redis, two gateway instances share one budget per owner; in memory, each has its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { OwnerQuotas } from '../../../src/quotas/owner-quotas';
import { GatewayError } from '../../../src/errors';
import { freePort } from '../../helpers/free-port';

const LIMITS = { createsPerMinute: 3, maxInFlight: 0, requestsPerSecond: 0 };
const noStore = { countInFlight: async () => 0 };

async function refusal(p: Promise<unknown>): Promise<GatewayError | null> {
  try {
    await p;
    return null;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

describe('OwnerQuotas in memory', () => {
  it('refuses past the limit with RATE_LIMITED and a retry hint, per owner and per instance', async () => {
    const a = new OwnerQuotas(LIMITS, noStore);
    for (let i = 0; i < 3; i++) expect(await refusal(a.admitCreate('alice'))).toBeNull();
    const refused = await refusal(a.admitCreate('alice'));
    expect(refused?.code).toBe('RATE_LIMITED');
    expect(refused?.details.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(await refusal(a.admitCreate('bob'))).toBeNull();
    // A second instance without Redis keeps its own count.
    expect(await refusal(new OwnerQuotas(LIMITS, noStore).admitCreate('alice'))).toBeNull();
  });

  it('refunds a create refused for too many in flight, and counts in-flight from the store', async () => {
    let inFlight = 2;
    const q = new OwnerQuotas({ createsPerMinute: 1, maxInFlight: 2, requestsPerSecond: 0 }, { countInFlight: async () => inFlight });
    expect(await refusal(q.checkInFlight('alice'))).toBeNull();
    inFlight = 3;
    expect((await refusal(q.checkInFlight('alice')))?.details).toMatchObject({ limit: 2, retryAfterSeconds: 10 });
    await q.admitCreate('alice');
    await q.refundCreate('alice');
    expect(await refusal(q.admitCreate('alice'))).toBeNull();
  });

  it('turns each limit off at 0', async () => {
    const q = new OwnerQuotas({ createsPerMinute: 0, maxInFlight: 0, requestsPerSecond: 0 }, { countInFlight: async () => 1e9 });
    for (let i = 0; i < 100; i++) {
      await q.admitCreate('alice');
      await q.request('alice');
    }
    await q.checkInFlight('alice');
  });
});

const redisBinary = spawnSync('redis-server', ['--version']).status === 0;
if (!redisBinary) {
  console.warn('SKIPPED: the Redis quota tests need `redis-server` on PATH (CI installs it with apt-get).');
}
const describeRedis = redisBinary ? describe : describe.skip;

describeRedis('OwnerQuotas with Redis', () => {
  let redisProcess: ChildProcess;
  const clients: Redis[] = [];
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    redisProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    for (let attempt = 0; ; attempt++) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    probe.disconnect();
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    redisProcess?.kill('SIGTERM');
  });

  const client = () => {
    const c = new Redis({ port, host: '127.0.0.1' });
    clients.push(c);
    return c;
  };

  it('shares one budget per owner between two instances', async () => {
    const first = new OwnerQuotas(LIMITS, noStore, client());
    const second = new OwnerQuotas(LIMITS, noStore, client());
    expect(await refusal(first.admitCreate('alice'))).toBeNull();
    expect(await refusal(second.admitCreate('alice'))).toBeNull();
    expect(await refusal(first.admitCreate('alice'))).toBeNull();
    const refused = await refusal(second.admitCreate('alice'));
    expect(refused?.code).toBe('RATE_LIMITED');
    expect(refused?.details.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(await refusal(second.admitCreate('bob'))).toBeNull();
    // The counters really are in Redis.
    const keys = await client().keys('vgw:quota:creates*');
    expect(keys.sort()).toEqual(['vgw:quota:creates:alice', 'vgw:quota:creates:bob']);
  });

  it('limits operations per second across instances too', async () => {
    const limits = { createsPerMinute: 0, maxInFlight: 0, requestsPerSecond: 2 };
    const first = new OwnerQuotas(limits, noStore, client());
    const second = new OwnerQuotas(limits, noStore, client());
    await first.request('carol');
    await second.request('carol');
    expect((await refusal(first.request('carol')))?.details.retryAfterSeconds).toBe(1);
  });
});
