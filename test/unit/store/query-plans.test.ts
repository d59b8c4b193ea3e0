/**
 * What each per-owner read and each metrics read costs on a long history, from the plan the database
 * runs: EXPLAIN ANALYZE of the store's own SQL (the functions in src/store/sql/ run through a session
 * that explains instead of answering), and how many rows its scans read. A read whose cost follows
 * the page size reads a few dozen rows here whatever the history; one that follows the history reads
 * thousands. On a real PostgreSQL 15 (the embedded store runs the same SQL, with PostgreSQL 17's
 * planner) when it is installed; CI has it.
 */
import { fillHistory, HISTORY_START } from '../../../bench/history-fill';
import { GenerationStatus } from '../../../src/model/generation';
import { migrations } from '../../../src/store/migrations';
import { pgDriver } from '../../../src/store/pg-store';
import { changedSince, getGeneration, getGenerations, listGenerationKeys } from '../../../src/store/sql/generations/select';
import { migrate } from '../../../src/store/sql/migrate';
import type { SqlDriver, SqlSession } from '../../../src/store/sql/session';
import { countByStatus, countInFlight, usageGroups } from '../../../src/store/sql/statistics/select';
import { explaining, planNodes as nodes, type PlanNode } from '../../helpers/query-plans';
import { describeWithServices, startPostgres, type PostgresServer } from '../../helpers/services';

/** Generations of the heavy owner, and as many again spread over 1,000 others. */
const HISTORY = 30_000;
/** Any read that follows the page size (at most 101 rows) stays far below this. */
const FLAT_ROWS = 500;

/** Rows the plan's scans of `generations` read: returned, plus those read and dropped by a filter. */
function rowsRead(plan: PlanNode): number {
  return nodes(plan)
    .filter((n) => n['Relation Name'] === 'generations')
    .reduce(
      (sum, n) => sum + (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * n['Actual Loops'],
      0,
    );
}

function describePlan(plan: PlanNode): string {
  return nodes(plan)
    .filter((n) => n['Relation Name'] === 'generations')
    .map((n) => `${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`)
    .join(', ');
}

describeWithServices('query plans on a long history (PostgreSQL)', () => {
  let server: PostgresServer;
  let db: SqlDriver;
  const heavy = 'heavy';
  /** Creation time of the heavy owner's generation number i (see fillHistory). */
  const createdAt = (i: number) => new Date(HISTORY_START.getTime() + i * 1000);

  beforeAll(async () => {
    server = await startPostgres();
    db = pgDriver({ connectionString: server.url });
    await migrate(db, migrations);
    await fillHistory(db, { perOwner: HISTORY, heavyOwner: heavy, otherOwners: 1_000 });
    // As autovacuum would have by now: index-only scans need the visibility map.
    await db.exec('VACUUM ANALYZE generations');
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await server?.destroy();
  });

  /** The plan of one store read, and the rows its scans read. */
  async function explain(read: (session: SqlSession) => Promise<unknown>): Promise<{ plan: PlanNode; rows: number; shape: string }> {
    const session = explaining(db);
    await read(session);
    expect(session.plans).toHaveLength(1);
    const plan = session.plans[0]!;
    return { plan, rows: rowsRead(plan), shape: describePlan(plan) };
  }

  const flatReads: Array<[string, (s: SqlSession) => Promise<unknown>]> = [
    ['by id', (s) => getGeneration(s, `heavy-${HISTORY / 2}`)],
    ['a batch by ids', (s) => getGenerations(s, heavy, ['heavy-1', 'heavy-2', `heavy-${HISTORY - 1}`])],
    ['the first list page', (s) => listGenerationKeys(s, { owner: heavy, limit: 21 })],
    ['a deep list page', (s) => listGenerationKeys(s, { owner: heavy, limit: 21, before: { createdAt: createdAt(100), id: 'heavy-100' } })],
    // 1 in 100 is GENERATING, 1 in 100 TIMED_OUT: few matches, spread over the whole history.
    ['a rare status', (s) => listGenerationKeys(s, { owner: heavy, limit: 21, statuses: [GenerationStatus.TIMED_OUT] })],
    [
      'two rare statuses, deep',
      (s) =>
        listGenerationKeys(s, {
          owner: heavy,
          limit: 21,
          statuses: [GenerationStatus.TIMED_OUT, GenerationStatus.GENERATING],
          before: { createdAt: createdAt(HISTORY / 3), id: `heavy-${HISTORY / 3}` },
        }),
    ],
    [
      'a status and a model',
      (s) => listGenerationKeys(s, { owner: heavy, limit: 21, statuses: [GenerationStatus.CANCELLED], models: ['google/veo3'] }),
    ],
    ['a model', (s) => listGenerationKeys(s, { owner: heavy, limit: 21, models: ['google/veo3'] })],
    ['the owner-wide catch-up', (s) => changedSince(s, heavy, createdAt(HISTORY - 200), 100)],
    ['in-flight count (quotas)', (s) => countInFlight(s, 'owner-7')],
  ];

  it.each(flatReads)('%s reads a page worth of rows, not the history', async (_, read) => {
    const { rows, shape } = await explain(read);
    expect(shape).not.toContain('Seq Scan');
    expect(rows).toBeLessThan(FLAT_ROWS);
  });

  it('the fill (triggers off, roll-ups counted after) leaves the roll-ups the generations add up to', async () => {
    const counts = await db.query('SELECT status, n::int AS n FROM generation_status_counts ORDER BY status');
    const direct = await db.query('SELECT status, count(*)::int AS n FROM generations GROUP BY status ORDER BY status');
    expect(counts).toEqual(direct);
    const sums = await db.query(`SELECT sum(n)::int AS n, sum(credits)::float8 AS credits FROM generation_usage_days WHERE owner = $1`, [heavy]);
    const summed = await db.query(
      `SELECT count(*)::int AS n, sum((usage->>'credits')::numeric)::float8 AS credits FROM generations WHERE owner = $1`,
      [heavy],
    );
    expect(sums).toEqual(summed);
    expect(summed[0]).toMatchObject({ n: HISTORY });
    const totals = await db.query(`SELECT sum(n)::int AS n, sum(credits)::float8 AS credits FROM generation_usage_totals WHERE owner = $1`, [heavy]);
    expect(totals).toEqual(summed);
  });

  it('countByStatus reads the counts, not the generations', async () => {
    const { plan, rows } = await explain(countByStatus);
    expect(rows).toBe(0);
    expect(
      nodes(plan)
        .map((n) => n['Relation Name'])
        .filter(Boolean),
    ).toEqual(['generation_status_counts']);
  });

  /** Rows a plan reads from any table: the roll-up's rows as well as the generations'. */
  const rowsReadAnywhere = (plan: PlanNode): number =>
    nodes(plan)
      .filter((n) => n['Relation Name'])
      .reduce((sum, n) => sum + (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)) * n['Actual Loops'], 0);

  // The history is one generation a second, so all of it falls on 2024-01-01 (UTC) and later.
  it.each([
    ['all time', null],
    ['since a midnight', new Date('2024-01-01T00:00:00Z')],
    ['since 200 generations ago (the rest of that day)', createdAt(HISTORY - 200)],
  ])('usage %s reads the roll-ups, not the history', async (_, since) => {
    const { plan, rows } = await explain((s) => usageGroups(s, heavy, since));
    expect(rows).toBeLessThanOrEqual(200);
    expect(rowsReadAnywhere(plan)).toBeLessThan(FLAT_ROWS);
  });

  it('usage all time reads one row per group and stripe from the totals, by their index', async () => {
    const { plan } = await explain((s) => usageGroups(s, heavy, null));
    // An Index Scan, or a Bitmap Heap Scan of the table under a Bitmap Index Scan of the index.
    expect(
      nodes(plan)
        .map((n) => n['Relation Name'])
        .filter(Boolean),
    ).toEqual(['generation_usage_totals']);
    expect(nodes(plan).map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(nodes(plan).map((n) => n['Index Name'])).toContain('generation_usage_totals_group_stripe');
    // Only the heavy owner's groups (status × model × duration), not the other owners' nor any day's.
    const [groups] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM generation_usage_totals WHERE owner = $1', [heavy]);
    expect(rowsReadAnywhere(plan)).toBe(groups!.n);
  });
});
