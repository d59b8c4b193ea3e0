/**
 * The poller's look at its next due time, as PostgreSQL plans it with 10,000 generations in flight:
 * index scans that read a handful of rows, not a pass over every in-flight row (issue 13).
 */
import { GenerationStatus } from '../../../src/model/generation';
import { createPgStore, pgDriver } from '../../../src/store/pg-store';
import { pollQueue } from '../../../src/store/sql/poll-queue/queue';
import type { SqlDriver, SqlSession } from '../../../src/store/sql/session';
import type { Store } from '../../../src/store/store';
import { explaining, planNodes as nodes } from '../../helpers/query-plans';
import { describeWithServices, startPostgres, type PostgresServer } from '../../helpers/services';

describeWithServices('the poll queue on PostgreSQL with 10,000 in flight', () => {
  let server: PostgresServer;
  let store: Store;
  // The store's own driver, not a bare pg.Pool: its pool listens for connections that PostgreSQL's
  // shutdown in afterAll ends, which a bare pool would rethrow as an unhandled error.
  let db: SqlDriver;

  beforeAll(async () => {
    server = await startPostgres();
    store = createPgStore({ connectionString: server.url, poolSize: 2, connectTimeoutMs: 5_000 });
    await store.start();
    db = pgDriver({ connectionString: server.url, poolSize: 1 });
    const now = new Date();
    await store.insertGeneration({
      id: 'seed',
      owner: 'alice',
      input: { model: 'google/veo3', prompt: 'a lighthouse' },
      inputHash: 'hash',
      idempotencyKey: null,
      status: GenerationStatus.GENERATING,
      createdAt: now,
      deadlineAt: new Date(now.getTime() + 3_600_000),
    });
    // 10,000 copies of it, due one second apart from a minute ago; 8 of them leased, as while polled.
    await db.exec(
      `INSERT INTO generations
       SELECT (jsonb_populate_record(g, jsonb_build_object(
         'id', 'plan-' || i, 'owner', 'owner-' || (i % 50),
         'next_poll_at', now() - interval '60 seconds' + i * interval '1 second',
         'lease_owner', CASE WHEN i % 1250 = 0 THEN 'poller' END,
         'lease_until', CASE WHEN i % 1250 = 0 THEN now() + interval '30 seconds' END))).*
       FROM generations g, generate_series(1, 10000) i WHERE g.id = 'seed'`,
    );
    await db.exec(`DELETE FROM generations WHERE id = 'seed'`);
    await db.exec('ANALYZE generations');
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await store?.stop();
    await server?.destroy();
  }, 60_000);

  /** The plans of the queries `use` runs. */
  async function explain(use: (session: SqlSession) => Promise<unknown>) {
    const session = explaining(db);
    await use(session);
    return session.plans;
  }

  it('finds the next due time by index scans that read a handful of rows, not every in-flight one', async () => {
    expect((await store.nextDueAt())!.getTime()).toBeLessThan(Date.now());
    const [plan] = await explain((db) => pollQueue.nextDueAt(db));
    const all = nodes(plan!);
    expect(all.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    const scans = all.filter((n) => n['Relation Name'] === 'generations');
    expect(scans.map((n) => n['Index Name']).sort()).toEqual(['generations_due', 'generations_leased']);
    // Rows read per scan: the first unleased row (after skipping leased ones) and the 8 leased rows.
    for (const scan of scans) expect(scan['Actual Rows'] * scan['Actual Loops']).toBeLessThanOrEqual(20);
  }, 60_000);

  it('claims with owners taking turns by an index scan bounded by the share window, FOR UPDATE SKIP LOCKED', async () => {
    const [plan] = await explain((db) => pollQueue.claimShared(db, 'poller-b', new Date(), 30_000, 8, { 'owner-1': 3 }, 2_000));
    const all = nodes(plan!);
    expect(all.some((n) => n['Node Type'] === 'LockRows')).toBe(true);
    const dueScan = all.find((n) => n['Index Name'] === 'generations_due');
    expect(dueScan).toBeDefined();
    expect(dueScan!['Actual Rows']).toBeLessThanOrEqual(2_000 + 8);
  }, 60_000);
});
