/**
 * Data growth (issue 14): what each per-owner read and the metrics read cost as one owner's history
 * grows, on the embedded store (PGlite on its thread) and on the PostgreSQL at BENCH_POSTGRES_URL when
 * set (a database of its own there for each size, dropped after it; test/helpers/services.ts, which
 * starts a server for the tests, needs Jest's globals). For each
 * size the table is filled with SQL (bench/history-fill.ts: the heavy owner's rows and as many over
 * 1,000 other owners), then every read runs `samples` times through the Store, one at a time; its p99
 * is compared with the same read's p99 at the smallest size in the same run (target: within 1.5×).
 * Also the head-of-line figure: another owner's list throughput alone and while the heavy owner loops on
 * `usage`, and the event loop's delay p99 meanwhile beside its idle p99, on the store as the gateway builds
 * it (the embedded one keeps list pages and usage reports until the owner writes); on the embedded store
 * also with every report read anew from the database, as for an owner whose `since` changes each call,
 * back to back and at the gateway's default per-owner quota (QUOTA_REQUESTS_PER_SECOND).
 *
 * Store level, in this process: it measures the store and its SQL, not HTTP (that is the HTTP part).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../src/config';
import { GenerationStatus } from '../src/model/generation';
import { pgDriver } from '../src/store/pg-store';
import { EMBEDDED_SQL_STORE_OPTIONS } from '../src/store/pglite-store';
import { templatePath } from '../src/store/pglite-template';
import { openPgliteThread } from '../src/store/pglite-thread';
import { SqlStore } from '../src/store/sql-store';
import type { SqlDriver } from '../src/store/sql/session';
import type { Store } from '../src/store/store';
import { fillHistory, HISTORY_START } from './history-fill';
import { createScratchDatabase } from './scratch-database';
import type { Row } from './results';
import { quantile } from './stats';

export interface DataGrowthPlan {
  /** Generations of the heavy owner at each step, smallest first (the baseline). */
  sizes: number[];
  /** Calls of each read at each size. */
  samples: number;
  /** Length of each head-of-line window (solo, then beside the usage loop). Default 3000 ms. */
  headOfLineMs?: number;
  /** Which stores to measure. Default both (PostgreSQL only with BENCH_POSTGRES_URL). */
  stores?: readonly GrowthStore[];
}

export type GrowthStore = 'embedded' | 'postgres';

/** Another owner's list requests in flight at once during the head-of-line windows. */
const LIST_CONCURRENCY = 4;
/**
 * The most operations a second the gateway lets one owner make by default (QUOTA_REQUESTS_PER_SECOND):
 * the back-to-back loops above are the store alone, with no quota in front of it.
 */
const GATEWAY_QUOTA_PER_SECOND = loadConfig({}).quotas.requestsPerSecond;
/** A bound on calls per loop in a window, whatever the window's length. */
const MAX_CALLS_PER_LOOP = 100_000;

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

/**
 * A store over `driver` (already open), so the bench can fill its tables with SQL first. `options`: the
 * gateway's for that database (kept reads on the embedded store); none for the per-read timings, which
 * measure the queries.
 */
function storeOver(driver: SqlDriver, options: ConstructorParameters<typeof SqlStore>[2] = {}): Store {
  return new SqlStore(async () => driver, undefined, options);
}

export async function runDataGrowth(plan: DataGrowthPlan, log: (line: string) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  const stores = plan.stores ?? ['embedded', 'postgres'];
  const embedded = async (): Promise<OpenedStore> => ({
    driver: await openPgliteThread({ templateFile: templatePath() }),
    drop: async () => {},
    gatewayOptions: EMBEDDED_SQL_STORE_OPTIONS,
  });
  if (stores.includes('embedded')) rows.push(...(await measureStore('embedded', embedded, plan, log)));
  const url = process.env.BENCH_POSTGRES_URL;
  if (!stores.includes('postgres')) return rows;
  if (!url) {
    log('  data growth on PostgreSQL skipped: BENCH_POSTGRES_URL is not set');
  } else {
    // Each size starts from an empty database of its own on that server.
    const open = async (): Promise<OpenedStore> => {
      const database = await createScratchDatabase(url, 'bench_growth');
      return { driver: pgDriver({ connectionString: database.url }), drop: () => database.drop(), gatewayOptions: {}, settle: settlePostgres };
    };
    rows.push(...(await measureStore('PostgreSQL', open, plan, log)));
  }
  return rows;
}

/** A store's driver, opened empty, and how to remove what it leaves behind once closed. */
interface OpenedStore {
  driver: SqlDriver;
  drop: () => Promise<void>;
  /** How the gateway builds its store over this database (createPgliteStore, createStore). */
  gatewayOptions: ConstructorParameters<typeof SqlStore>[2];
  /** Brings the filled database to the state a long-lived one is in (none: it is in it already). */
  settle?: (driver: SqlDriver) => Promise<void>;
}

/**
 * A PostgreSQL server vacuums and analyzes a table after a large insert (autovacuum) and flushes the
 * written pages within checkpoint_timeout; straight after the 2M-row fill both were still to come and
 * ran beside the timed reads (BENCHMARKS.md, data growth, 1M). The embedded store needs neither: PGlite
 * is a standalone backend with no autovacuum, so a long-lived embedded database is never vacuumed.
 */
async function settlePostgres(driver: SqlDriver): Promise<void> {
  await driver.exec('VACUUM (ANALYZE)');
  await driver.exec('CHECKPOINT');
}

async function measureStore(label: string, open: () => Promise<OpenedStore>, plan: DataGrowthPlan, log: (line: string) => void): Promise<Row[]> {
  const p99s = new Map<string, number[]>();
  // Logged beside each p99: a p50 that does not move says the p99 moved by a stall, not by the read's plan.
  const p50s = new Map<string, number>();
  const headOfLine: HeadOfLine[] = [];
  const headOfLineAnew: HeadOfLine[] = [];
  const headOfLineAtQuota: HeadOfLine[] = [];
  for (const size of plan.sizes) {
    const { driver, drop, gatewayOptions, settle } = await open();
    const store = storeOver(driver);
    const keeps = gatewayOptions?.ownerReads !== undefined;
    const gatewayStore = keeps ? storeOver(driver, gatewayOptions) : store;
    try {
      await store.start();
      // Migrations already ran: this only hands it the open driver (store.stop() below closes it).
      if (gatewayStore !== store) await gatewayStore.start();
      const filling = Date.now();
      await fillHistory(driver, { perOwner: size, heavyOwner: HEAVY, otherOwners: 1_000 });
      log(`  ${label}, ${size} per owner: filled in ${((Date.now() - filling) / 1000).toFixed(1)} s`);
      if (settle) {
        const settling = Date.now();
        await settle(driver);
        log(`  ${label}, ${size} per owner: VACUUM (ANALYZE) and CHECKPOINT in ${((Date.now() - settling) / 1000).toFixed(1)} s`);
      }
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
        p50s.set(read.name, quantile(times, 0.5));
      }
      // Logged as each size ends, so a run stopped during a long fill still leaves the sizes it measured.
      log(
        `  ${label}, ${size} per owner: p50 / p99 ${READS.map((r) => `${r.name} ${p50s.get(r.name)!.toFixed(2)} / ${p99s.get(r.name)!.at(-1)!.toFixed(2)} ms`).join(', ')}`,
      );
      const h = await measureHeadOfLine(gatewayStore, gatewayStore, plan.headOfLineMs ?? 3000);
      headOfLine.push(h);
      log(
        `  ${label}, ${size} per owner: other owner's list ${h.contendedPerSecond.toFixed(1)} req/s beside usage (${h.usagePerSecond.toFixed(0)} calls/s) vs ${h.soloPerSecond.toFixed(1)} solo; event-loop p99 ${h.contendedLoopP99.toFixed(1)} ms vs ${h.idleLoopP99.toFixed(1)} idle`,
      );
      if (keeps) {
        const anew = await measureHeadOfLine(gatewayStore, store, plan.headOfLineMs ?? 3000);
        headOfLineAnew.push(anew);
        log(
          `  ${label}, ${size} per owner, each usage read anew: other owner's list ${anew.contendedPerSecond.toFixed(1)} req/s beside usage (${anew.usagePerSecond.toFixed(0)} calls/s) vs ${anew.soloPerSecond.toFixed(1)} solo; event-loop p99 ${anew.contendedLoopP99.toFixed(1)} ms vs ${anew.idleLoopP99.toFixed(1)} idle`,
        );
        const atQuota = await measureHeadOfLine(gatewayStore, store, plan.headOfLineMs ?? 3000, GATEWAY_QUOTA_PER_SECOND);
        headOfLineAtQuota.push(atQuota);
        log(
          `  ${label}, ${size} per owner, each usage read anew at ${GATEWAY_QUOTA_PER_SECOND}/s: other owner's list ${atQuota.contendedPerSecond.toFixed(1)} req/s beside usage (${atQuota.usagePerSecond.toFixed(0)} calls/s) vs ${atQuota.soloPerSecond.toFixed(1)} solo`,
        );
      }
    } finally {
      await store.stop();
      await drop();
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
    const h = headOfLine[i]!;
    const anew = headOfLineAnew[i];
    const atQuota = headOfLineAtQuota[i];
    rows.push({
      bench: `Data growth, ${label}`,
      metric: `another owner's list while the heavy owner loops on usage, ${size} per owner (baseline: solo)`,
      ours: h.contendedPerSecond,
      baseline: h.soloPerSecond,
      unit: 'req/s',
      target: '≥ 0.8×',
      met: h.contendedPerSecond >= 0.8 * h.soloPerSecond,
      higherIsBetter: true,
    });
    if (anew) {
      rows.push({
        bench: `Data growth, ${label}`,
        metric: `the same with each usage report read anew from the database, ${size} per owner (baseline: solo)`,
        ours: anew.contendedPerSecond,
        baseline: anew.soloPerSecond,
        unit: 'req/s',
        target: '≥ 0.8×',
        met: anew.contendedPerSecond >= 0.8 * anew.soloPerSecond,
        higherIsBetter: true,
      });
    }
    if (atQuota) {
      rows.push({
        bench: `Data growth, ${label}`,
        metric: `the same, read anew, at the gateway's default quota of ${GATEWAY_QUOTA_PER_SECOND} operations a second per owner, ${size} per owner (baseline: solo)`,
        ours: atQuota.contendedPerSecond,
        baseline: atQuota.soloPerSecond,
        unit: 'req/s',
        target: '≥ 0.8×',
        met: atQuota.contendedPerSecond >= 0.8 * atQuota.soloPerSecond,
        higherIsBetter: true,
      });
    }
    rows.push({
      bench: `Data growth, ${label}`,
      metric: `event-loop delay p99 while those queries run, ${size} per owner (baseline: idle)`,
      ours: h.contendedLoopP99,
      baseline: h.idleLoopP99,
      unit: 'ms',
      target: '< 20 ms',
      met: h.contendedLoopP99 < 20,
    });
  });
  return rows;
}

interface HeadOfLine {
  soloPerSecond: number;
  contendedPerSecond: number;
  /** The heavy owner's `usage` calls a second meanwhile. */
  usagePerSecond: number;
  /** Event-loop delay p99 (ms) with nothing running, for the machine's own noise. */
  idleLoopP99: number;
  /** Event-loop delay p99 (ms) while the list loops and the usage loop run. */
  contendedLoopP99: number;
}

/**
 * The head-of-line figure: another owner's list page (keys, then the page's rows, as the service
 * reads one) at LIST_CONCURRENCY in flight through `store`, alone and then while the heavy owner calls
 * `usage` through `usageStore` back to back (or `usageCallsPerSecond` times a second, as a quota admits
 * them); and the event loop's delay meanwhile, beside its delay when idle for as long.
 */
async function measureHeadOfLine(store: Store, usageStore: Store, windowMs: number, usageCallsPerSecond?: number): Promise<HeadOfLine> {
  const other = 'owner-7';
  const list = async () => {
    const keys = await store.listGenerationKeys({ owner: other, limit: 21 });
    await store.getGenerations(
      other,
      keys.map((k) => k.id),
    );
  };
  const loopUntil = async (deadline: number, call: () => Promise<unknown>): Promise<number> => {
    let calls = 0;
    while (performance.now() < deadline && calls < MAX_CALLS_PER_LOOP) {
      await call();
      calls += 1;
    }
    return calls;
  };
  const listRate = async (): Promise<number> => {
    const start = performance.now();
    const counts = await Promise.all(Array.from({ length: LIST_CONCURRENCY }, () => loopUntil(start + windowMs, list)));
    return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
  };

  const idleLoopP99 = await loopDelayDuring(() => new Promise((resolve) => setTimeout(resolve, windowMs)));
  await list(); // plans the statements once, outside the windows
  const soloPerSecond = await listRate();
  let stop = false;
  const usageStarted = performance.now();
  // Bounded by time, not by MAX_CALLS_PER_LOOP: served from memory it makes over 100,000 calls in
  // the first second or so and, stopped there, left the rest of the window uncontended.
  const usageDeadline = usageStarted + 2 * windowMs;
  const usageLoop = (async () => {
    let calls = 0;
    while (!stop && performance.now() < usageDeadline) {
      await usageStore.usageGroups(HEAVY, null);
      calls += 1;
      if (usageCallsPerSecond) {
        // Paced from the loop's start, so the time each call takes does not slow the rate.
        const next = usageStarted + (calls * 1000) / usageCallsPerSecond;
        await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
      } else {
        // A client's next request arrives as an event, not a microtask: a report kept in memory would
        // otherwise loop without ever letting the lists' replies in.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return calls;
  })();
  let contendedPerSecond = 0;
  const contendedLoopP99 = await loopDelayDuring(async () => {
    contendedPerSecond = await listRate();
  });
  stop = true;
  const usagePerSecond = (await usageLoop) / ((performance.now() - usageStarted) / 1000);
  return { soloPerSecond, contendedPerSecond, usagePerSecond, idleLoopP99, contendedLoopP99 };
}

/** The event loop's delay p99 (ms) while `work` runs. */
async function loopDelayDuring(work: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  return histogram.percentile(99) / 1e6;
}
