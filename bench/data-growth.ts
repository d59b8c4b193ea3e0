/**
 * Data growth (issue 14): what each per-owner read and the metrics read cost as one owner's history
 * grows, on the embedded store (PGlite on its thread) and on the PostgreSQL at BENCH_POSTGRES_URL when
 * set (an empty database it may drop the gateway's tables in; test/helpers/services.ts, which starts
 * one for the tests, needs Jest's globals). For each
 * size the table is filled with SQL (bench/history-fill.ts: the heavy owner's rows and as many over
 * 1,000 other owners), then every read runs `samples` times through the Store, one at a time; its p99
 * is compared with the same read's p99 at the smallest size in the same run (target: within 1.5×).
 * Also, on the embedded store, the event loop's delay p99 while the heavy owner loops on `usage`.
 *
 * Store level, in this process: it measures the store and its SQL, not HTTP (that is the HTTP part).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GenerationStatus } from '../src/model/generation';
import { pgDriver } from '../src/store/pg-store';
import { templatePath } from '../src/store/pglite-template';
import { openPgliteThread } from '../src/store/pglite-thread';
import { SqlStore } from '../src/store/sql-store';
import type { SqlDriver } from '../src/store/sql/session';
import type { Store } from '../src/store/store';
import { fillHistory, HISTORY_START } from './history-fill';
import type { Row } from './results';
import { quantile } from './stats';

export interface DataGrowthPlan {
  /** Generations of the heavy owner at each step, smallest first (the baseline). */
  sizes: number[];
  /** Calls of each read at each size. */
  samples: number;
}

interface Read {
  name: string;
  run(store: Store, size: number): Promise<unknown>;
}

const HEAVY = 'heavy';
const createdAt = (i: number) => new Date(HISTORY_START.getTime() + i * 1000);

const READS: Read[] = [
  { name: 'by id', run: (s, n) => s.getGeneration(`heavy-${Math.floor(n / 2)}`) },
  { name: 'first list page', run: (s) => s.listGenerationKeys({ owner: HEAVY, limit: 21 }) },
  {
    name: 'deep list page',
    run: (s) => s.listGenerationKeys({ owner: HEAVY, limit: 21, before: { createdAt: createdAt(100), id: 'heavy-100' } }),
  },
  { name: 'rare status filter', run: (s) => s.listGenerationKeys({ owner: HEAVY, limit: 21, statuses: [GenerationStatus.TIMED_OUT] }) },
  { name: 'owner-wide catch-up', run: (s, n) => s.changedSince(HEAVY, createdAt(Math.max(0, n - 200)), 100) },
  { name: 'usage', run: (s) => s.usageGroups(HEAVY, null) },
  // Reads the generations from `since` to the next midnight one by one (here the last 200).
  { name: 'usage since mid-day', run: (s, n) => s.usageGroups(HEAVY, createdAt(Math.max(0, n - 200))) },
  { name: 'metrics counts', run: (s) => s.countByStatus() },
];

/** A store over `driver` (already open), so the bench can fill its tables with SQL first. */
function storeOver(driver: SqlDriver): Store {
  return new SqlStore(async () => driver);
}

export async function runDataGrowth(plan: DataGrowthPlan, log: (line: string) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push(...(await measureStore('embedded', () => openPgliteThread({ templateFile: templatePath() }), plan, log)));
  const url = process.env.BENCH_POSTGRES_URL;
  if (!url) {
    log('  data growth on PostgreSQL skipped: BENCH_POSTGRES_URL is not set');
  } else {
    const open = async () => {
      const driver = pgDriver({ connectionString: url });
      // Each size starts from an empty database.
      await driver.exec('DROP TABLE IF EXISTS generations, api_keys, schema_migrations, generation_status_counts, generation_usage_days CASCADE');
      await driver.exec(
        'DROP FUNCTION IF EXISTS generation_status_counted, generation_usage_counted, generation_usage_number, generation_usage_duration, generation_usage_day CASCADE',
      );
      return driver;
    };
    rows.push(...(await measureStore('PostgreSQL', open, plan, log)));
  }
  return rows;
}

async function measureStore(label: string, open: () => Promise<SqlDriver>, plan: DataGrowthPlan, log: (line: string) => void): Promise<Row[]> {
  const p99s = new Map<string, number[]>();
  const loopDelays: number[] = [];
  for (const size of plan.sizes) {
    const driver = await open();
    const store = storeOver(driver);
    try {
      await store.start();
      const filling = Date.now();
      await fillHistory(driver, { perOwner: size, heavyOwner: HEAVY, otherOwners: 1_000 });
      log(`  ${label}, ${size} per owner: filled in ${((Date.now() - filling) / 1000).toFixed(1)} s`);
      for (const read of READS) {
        const times: number[] = [];
        // One untimed call first: the first one plans the statement and warms the cache.
        await read.run(store, size);
        for (let i = 0; i < plan.samples; i++) {
          const t = performance.now();
          await read.run(store, size);
          times.push(performance.now() - t);
        }
        p99s.set(read.name, [...(p99s.get(read.name) ?? []), quantile(times, 0.99)]);
      }
      loopDelays.push(await loopDelayDuring(() => store.usageGroups(HEAVY, null), plan.samples));
    } finally {
      await store.stop();
    }
  }
  const rows: Row[] = [];
  const base = plan.sizes[0]!;
  plan.sizes.forEach((size, i) => {
    if (i === 0) return;
    for (const read of READS) {
      const values = p99s.get(read.name)!;
      rows.push({
        bench: `Data growth, ${label}`,
        metric: `${read.name} p99 at ${size} vs ${base} per owner`,
        ours: values[i]!,
        baseline: values[0]!,
        unit: 'ms',
        target: '≤ 1.5×',
        met: values[i]! <= 1.5 * values[0]!,
      });
    }
  });
  plan.sizes.forEach((size, i) => {
    rows.push({
      bench: `Data growth, ${label}`,
      metric: `event-loop delay p99 while usage loops, ${size} per owner`,
      ours: loopDelays[i]!,
      unit: 'ms',
      target: label === 'embedded' ? '< 20 ms' : undefined,
      met: label === 'embedded' ? loopDelays[i]! < 20 : undefined,
    });
  });
  return rows;
}

/** The event loop's delay p99 (ms) while `read` runs `times` times back to back. */
async function loopDelayDuring(read: () => Promise<unknown>, times: number): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    for (let i = 0; i < times; i++) await read();
  } finally {
    histogram.disable();
  }
  return histogram.percentile(99) / 1e6;
}
