/**
 * `node dist-bench/bench/growth-plans.js SIZE[,SIZE…] [--keep]`, with BENCH_POSTGRES_URL set: the
 * data-growth bench's PostgreSQL step taken apart (issue 14). For each size, a database of its own on
 * that server is filled as the bench fills it (bench/history-fill.ts), then each read the bench times
 * is EXPLAINed (ANALYZE, BUFFERS) on the store's own SQL and timed (p99 of 20 calls after one untimed
 * call), once straight after the fill and once after `VACUUM (ANALYZE)`, with what the server is doing
 * meanwhile (autovacuum workers, checkpoints, the table's all-visible pages). `--keep` leaves the
 * database in place (its URL is printed) instead of dropping it.
 */
import { GenerationStatus } from '../src/model/generation';
import { migrations } from '../src/store/migrations';
import { pgDriver } from '../src/store/pg-store';
import { changedSince, getGeneration, listGenerationKeys } from '../src/store/sql/generations/select';
import { migrate } from '../src/store/sql/migrate';
import type { Row, SqlDriver, SqlSession } from '../src/store/sql/session';
import { countByStatus, usageGroups } from '../src/store/sql/statistics/select';
import { fillHistory, HISTORY_START } from './history-fill';
import { createScratchDatabase } from './scratch-database';
import { quantile } from './stats';

const HEAVY = 'heavy';
const SAMPLES = 20;
const createdAt = (i: number) => new Date(HISTORY_START.getTime() + i * 1000);

/** The bench's reads (bench/data-growth.ts), on the SQL functions the store calls. */
const READS: Array<[string, (s: SqlSession, n: number) => Promise<unknown>]> = [
  ['by id', (s, n) => getGeneration(s, `heavy-${Math.floor(n / 2)}`)],
  ['first list page', (s) => listGenerationKeys(s, { owner: HEAVY, limit: 21 })],
  ['deep list page', (s) => listGenerationKeys(s, { owner: HEAVY, limit: 21, before: { createdAt: createdAt(100), id: 'heavy-100' } })],
  ['rare status filter', (s) => listGenerationKeys(s, { owner: HEAVY, limit: 21, statuses: [GenerationStatus.TIMED_OUT] })],
  ['owner-wide catch-up', (s, n) => changedSince(s, HEAVY, createdAt(Math.max(0, n - 200)), 100)],
  ['usage', (s) => usageGroups(s, HEAVY, null)],
  ['usage since mid-day', (s, n) => usageGroups(s, HEAVY, createdAt(Math.max(0, n - 200)))],
  ['metrics counts', (s) => countByStatus(s)],
];

interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Heap Fetches'?: number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  'Shared Dirtied Blocks': number;
  'Shared Written Blocks': number;
  Plans?: Plan[];
}

interface Explained {
  Plan: Plan;
  'Planning Time': number;
  'Execution Time': number;
  JIT?: { Functions: number; Timing: { Total: number } };
}

/** A session that EXPLAINs (ANALYZE, BUFFERS) each query instead of answering it. */
function explaining(db: SqlSession, out: Explained[]): SqlSession {
  return {
    async query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const [row] = await db.query<{ 'QUERY PLAN': [Explained] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
      out.push(row!['QUERY PLAN'][0]);
      return [];
    },
    exec: () => Promise.reject(new Error('not explained')),
  };
}

const nodes = (p: Plan): Plan[] => [p, ...(p.Plans ?? []).flatMap(nodes)];

function summary(e: Explained): string {
  const scans = nodes(e.Plan)
    .filter((n) => n['Relation Name'])
    .map(
      (n) =>
        `${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ` on ${n['Relation Name']}`} rows=${n['Actual Rows'] * n['Actual Loops']}` +
        (n['Heap Fetches'] !== undefined ? ` heap fetches=${n['Heap Fetches']}` : ''),
    )
    .join('; ');
  const p = e.Plan;
  const jit = e.JIT ? `, JIT ${e.JIT.Functions} functions ${e.JIT.Timing.Total.toFixed(1)} ms` : '';
  return (
    `${scans} | buffers hit=${p['Shared Hit Blocks']} read=${p['Shared Read Blocks']} dirtied=${p['Shared Dirtied Blocks']} ` +
    `written=${p['Shared Written Blocks']} | planning ${e['Planning Time'].toFixed(2)} ms, execution ${e['Execution Time'].toFixed(2)} ms${jit}`
  );
}

async function serverState(db: SqlDriver): Promise<string> {
  const [t] = await db.query(
    `SELECT c.relpages, c.relallvisible, s.n_live_tup, s.n_dead_tup, s.last_autovacuum, s.last_autoanalyze, s.last_vacuum,
            pg_size_pretty(pg_total_relation_size('generations')) AS size
       FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'generations'`,
  );
  const workers = await db.query(`SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`);
  const [bg] = await db.query(`SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_backend FROM pg_stat_bgwriter`);
  return `generations ${JSON.stringify(t)}; autovacuum workers now: ${JSON.stringify(workers.map((w) => w.query))}; bgwriter ${JSON.stringify(bg)}`;
}

async function measure(db: SqlDriver, size: number, phase: string): Promise<void> {
  console.log(`  [${phase}] ${await serverState(db)}`);
  for (const [name, read] of READS) {
    const first: Explained[] = [];
    await read(explaining(db, first), size);
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      await read(db, size);
      times.push(performance.now() - t);
    }
    const again: Explained[] = [];
    await read(explaining(db, again), size);
    console.log(`  [${phase}] ${name}: p99 ${quantile(times, 0.99).toFixed(2)} ms, median ${quantile(times, 0.5).toFixed(2)} ms`);
    console.log(`      first:  ${first.map(summary).join(' || ')}`);
    console.log(`      after:  ${again.map(summary).join(' || ')}`);
  }
}

async function main(): Promise<void> {
  const url = process.env.BENCH_POSTGRES_URL;
  if (!url) throw new Error('BENCH_POSTGRES_URL is not set');
  const sizes = (process.argv[2] ?? '').split(',').map(Number);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('usage: growth-plans SIZE[,SIZE…] [--keep]');
  const keep = process.argv.includes('--keep');
  for (const size of sizes) {
    const database = await createScratchDatabase(url, 'bench_growth_plans');
    const db = pgDriver({ connectionString: database.url });
    try {
      await migrate(db, migrations);
      const filling = Date.now();
      await fillHistory(db, { perOwner: size, heavyOwner: HEAVY, otherOwners: 1_000 });
      console.log(`${size} per owner: filled in ${((Date.now() - filling) / 1000).toFixed(1)} s (${database.url})`);
      await measure(db, size, 'after the fill');
      const vacuuming = Date.now();
      await db.exec('VACUUM (ANALYZE)');
      console.log(`  VACUUM (ANALYZE) took ${((Date.now() - vacuuming) / 1000).toFixed(1)} s`);
      await measure(db, size, 'after VACUUM (ANALYZE)');
    } finally {
      await db.close();
      if (!keep) await database.drop();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
