import { createInMemoryPglite } from '../../../src/store/pglite-template';
import { pgDriver } from '../../../src/store/pg-store';
import { pgliteDriver } from '../../../src/store/pglite-driver';
import { LeaseQueue } from '../../../src/store/sql/lease-queue';
import { Params, type SqlDriver } from '../../../src/store/sql/session';
import { missingServices, startPostgres, type PostgresServer } from '../../helpers/services';

/**
 * The lease queue on a table that is not `generations`, with its own column names: what a durable job
 * (a webhook delivery here) would use. Same SQL on PGlite and on a real PostgreSQL when installed.
 */
const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

const deliveries = new LeaseQueue({
  table: 'webhook_deliveries',
  queued: `state = 'pending'`,
  columns: { id: 'delivery_id', dueAt: 'run_at', leaseOwner: 'locked_by', leaseUntil: 'locked_until', leaseEpoch: 'lock_epoch' },
});

const missing = missingServices();
const drivers = missing ? ['PGlite'] : ['PGlite', 'PostgreSQL'];

describe.each(drivers)('LeaseQueue on %s', (driver) => {
  let db: SqlDriver;
  let server: PostgresServer | null = null;

  // One database per engine: a clean clone's first in-memory PGlite runs a full initdb (tens of seconds on
  // a loaded machine), too slow for every test; each test starts from a fresh table instead.
  beforeAll(async () => {
    if (driver === 'PostgreSQL') server = await startPostgres();
    db = server ? pgDriver({ connectionString: server.url }) : pgliteDriver(await createInMemoryPglite());
  }, 180_000);

  afterAll(async () => {
    await db?.close();
    await server?.destroy();
  });

  beforeEach(async () => {
    await db.exec(`
      DROP TABLE IF EXISTS webhook_deliveries;
      CREATE TABLE webhook_deliveries (
        delivery_id  text PRIMARY KEY,
        state        text NOT NULL,
        run_at       timestamptz NULL,
        attempts     int NOT NULL DEFAULT 0,
        locked_by    text NULL,
        locked_until timestamptz NULL,
        lock_epoch   int NOT NULL DEFAULT 0
      )`);
  });

  async function add(id: string, runAt: Date | null, state = 'pending'): Promise<void> {
    await db.query('INSERT INTO webhook_deliveries (delivery_id, state, run_at) VALUES ($1, $2, $3)', [id, state, runAt]);
  }

  const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.delivery_id);

  it('claims due, queued, unleased rows only, most overdue first, and bumps the epoch', async () => {
    await add('late', at(5));
    await add('later', at(1));
    await add('future', at(100));
    await add('unscheduled', null);
    await add('done', at(0), 'delivered');

    const claimed = await deliveries.claim(db, 'worker-a', at(10), 30_000, 10);
    expect(ids(claimed)).toEqual(['later', 'late']);
    expect(claimed[0]).toMatchObject({ locked_by: 'worker-a', lock_epoch: 1 });
    expect(new Date(claimed[0]!.locked_until as Date).toISOString()).toBe(at(40).toISOString());
    // Leased until 40 s: nobody else gets them meanwhile, and the limit holds.
    expect(await deliveries.claim(db, 'worker-b', at(20), 30_000, 10)).toEqual([]);
    expect(await deliveries.claim(db, 'worker-b', at(10), 30_000, 0)).toEqual([]);
  });

  it('hands each row to one of two concurrent claimers', async () => {
    for (let i = 0; i < 6; i++) await add(`d${i}`, at(i));
    const [a, b] = await Promise.all([deliveries.claim(db, 'worker-a', at(10), 30_000, 4), deliveries.claim(db, 'worker-b', at(10), 30_000, 4)]);
    const all = [...ids(a), ...ids(b)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
  });

  it('lets only the current holder write: an expired lease taken over fences the old holder out', async () => {
    await add('d', at(0));
    const [first] = await deliveries.claim(db, 'worker-a', at(1), 10_000, 1);
    const stale = { owner: 'worker-a', epoch: Number(first!.lock_epoch) };

    // Expired at 11 s: taken over, even by the same worker, with a new epoch.
    const [again] = await deliveries.claim(db, 'worker-a', at(12), 10_000, 1);
    const current = { owner: 'worker-a', epoch: Number(again!.lock_epoch) };
    expect(current.epoch).toBe(stale.epoch + 1);

    const attempt = (lease: typeof stale) => {
      const params = new Params();
      const sets = [`attempts = attempts + 1`, ...deliveries.sets({ dueAt: at(60), leaseOwner: null, leaseUntil: null }, params)];
      return deliveries.updateHeld(db, 'd', lease, sets, params);
    };
    expect(await attempt(stale)).toBe(false);
    expect(await attempt(current)).toBe(true);
    // Released: the lease is gone for its holder too.
    expect(await attempt(current)).toBe(false);
    const [row] = await db.query('SELECT attempts, run_at, locked_by FROM webhook_deliveries');
    expect(row).toMatchObject({ attempts: 1, locked_by: null });
    expect(new Date(row!.run_at as Date).toISOString()).toBe(at(60).toISOString());
  });

  it('tells when the next row becomes claimable: its due time, or its lease expiry while leased', async () => {
    expect(await deliveries.nextDueAt(db)).toBeNull();
    await add('a', at(5));
    await add('b', at(8));
    await add('done', at(1), 'delivered');
    expect((await deliveries.nextDueAt(db))?.toISOString()).toBe(at(5).toISOString());
    await deliveries.claim(db, 'worker-a', at(6), 30_000, 1);
    expect((await deliveries.nextDueAt(db))?.toISOString()).toBe(at(8).toISOString());
    await deliveries.claim(db, 'worker-a', at(9), 30_000, 1);
    expect((await deliveries.nextDueAt(db))?.toISOString()).toBe(at(36).toISOString());
  });
});

describe('LeaseQueue', () => {
  it('refuses a table or column name that is not a plain identifier (they are spliced into SQL)', () => {
    const columns = { id: 'id', dueAt: 'run_at', leaseOwner: 'locked_by', leaseUntil: 'locked_until', leaseEpoch: 'lock_epoch' };
    expect(() => new LeaseQueue({ table: 'jobs; DROP TABLE jobs', queued: 'true', columns })).toThrow(/not a plain SQL identifier/);
    expect(() => new LeaseQueue({ table: 'jobs', queued: 'true', columns: { ...columns, dueAt: 'run at' } })).toThrow(/not a plain SQL identifier/);
  });
});
