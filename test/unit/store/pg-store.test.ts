/**
 * What only a real PostgreSQL server shows: several instances migrating at once, idempotency races
 * between separate connection pools, writers on separate connections, and a server that goes away and
 * comes back.
 */
import pg from 'pg';
import { ErrorCode, GatewayError } from '../../../src/errors';
import { GenerationStatus } from '../../../src/model/generation';
import { createPgStore } from '../../../src/store/pg-store';
import type { NewGeneration, Store } from '../../../src/store/store';
import { describeWithServices, startPostgres, type PostgresServer } from '../../helpers/services';

function newGeneration(id: string, idempotencyKey: string | null): NewGeneration {
  const now = new Date();
  return {
    id,
    owner: 'alice',
    input: { model: 'google/veo3', prompt: 'a cat', durationSeconds: 8 },
    inputHash: 'hash',
    idempotencyKey,
    status: GenerationStatus.QUEUED,
    createdAt: now,
    deadlineAt: new Date(now.getTime() + 600_000),
  };
}

describeWithServices('PostgreSQL store', () => {
  let server: PostgresServer;
  const stores: Store[] = [];

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.stop()));
    await server?.destroy();
  });

  function pgStore(): Store {
    const store = createPgStore({ connectionString: server.url, poolSize: 4, connectTimeoutMs: 1_000 });
    stores.push(store);
    return store;
  }

  it('migrates once when several instances start at the same moment', async () => {
    const five = Array.from({ length: 5 }, pgStore);
    await Promise.all(five.map((s) => s.start()));
    await Promise.all(five.map((s) => s.ping()));
    // Every instance sees the same tables: a row written by one is read by another.
    await five[0]!.insertGeneration(newGeneration('m-1', null));
    expect((await five[4]!.getGeneration('m-1'))?.id).toBe('m-1');
  });

  it('lets exactly one of several instances insert an idempotency key they race on', async () => {
    const racers = [pgStore(), pgStore(), pgStore()];
    await Promise.all(racers.map((s) => s.start()));
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => racers[i % 3]!.insertGeneration(newGeneration(`race-${i}`, 'same-key'))));
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    const winner = results.find((r) => r.inserted)!.generation.id;
    expect(new Set(results.map((r) => r.generation.id))).toEqual(new Set([winner]));
  });

  it('lets status changes on two connections go on without waiting for each other, and counts them exactly', async () => {
    const store = pgStore();
    await store.start();
    for (const id of ['count-1', 'count-2']) await store.insertGeneration(newGeneration(id, null));
    const before = await store.countByStatus();
    const usageCount = async (status: GenerationStatus) => (await store.usageGroups('alice', null)).find((g) => g.status === status)?.count ?? 0;
    const [queuedBefore, generatingBefore] = [await usageCount(GenerationStatus.QUEUED), await usageCount(GenerationStatus.GENERATING)];
    // Each connection counts in its own stripe (pid modulo 16): take a second connection on another one.
    const first = new pg.Client({ connectionString: server.url });
    await first.connect();
    const pidOf = async (c: pg.Client) => Number((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const firstStripe = (await pidOf(first)) % 16;
    const others: pg.Client[] = [];
    try {
      let second: pg.Client | null = null;
      for (let tries = 0; tries < 8 && !second; tries++) {
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        others.push(c);
        if ((await pidOf(c)) % 16 !== firstStripe) second = c;
      }
      expect(second).not.toBeNull();
      await first.query('BEGIN');
      await first.query(`UPDATE generations SET status = 'GENERATING' WHERE id = 'count-1'`);
      // With one count row per status, this waited for the first transaction's commit: here it would time out.
      await second!.query(`SET statement_timeout = '3s'`);
      await second!.query(`UPDATE generations SET status = 'GENERATING' WHERE id = 'count-2'`);
      await first.query('COMMIT');
      const after = await store.countByStatus();
      expect(after).toEqual({ ...before, QUEUED: before.QUEUED! - 2, GENERATING: before.GENERATING! + 2 });
      // The rows were counted in at the store's connection, and out at others': only the sums are exact.
      expect(await usageCount(GenerationStatus.QUEUED)).toBe(queuedBefore - 2);
      expect(await usageCount(GenerationStatus.GENERATING)).toBe(generatingBefore + 2);
    } finally {
      await Promise.allSettled([first, ...others].map((c) => c.end()));
    }
  });

  it('fails with DATABASE_UNAVAILABLE while the server is down, and works again once it is back', async () => {
    const store = pgStore();
    await store.start();
    await store.insertGeneration(newGeneration('down-1', null));
    await server.stop();
    const failure = await store.getGeneration('down-1').then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(GatewayError);
    expect((failure as GatewayError).code).toBe(ErrorCode.DATABASE_UNAVAILABLE);
    await server.start();
    // The pool drops the dead connections and opens new ones; nothing needs restarting.
    expect((await store.getGeneration('down-1'))?.id).toBe('down-1');
  }, 60_000);
});
