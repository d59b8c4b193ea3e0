/**
 * What only a real PostgreSQL server shows: several instances migrating at once, idempotency races
 * between separate connection pools, and a server that goes away and comes back.
 */
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
