/**
 * The gateway under the poller-scale benchmark (bench/poller-scale.ts), in its own process so its CPU
 * time and event-loop delay are the gateway's alone: the simulator it polls runs in the bench
 * process. `argv[2]` is a JSON PollerHostOptions. It talks over IPC (PollerHostRequest), like
 * bench/server-host.ts.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig, type Config } from '../src/config';
import { startApp, type App } from '../src/app';
import { GenerationStatus, type Generation } from '../src/model/generation';
import { mapUpstreamStatus } from '../src/generations/status-mapping';
import { PollSchedule } from '../src/generations/timing';
import { createStore } from '../src/store/create-store';
import type { SqlSession } from '../src/store/sql/session';
import type { Store } from '../src/store/store';
import type { UpstreamClient } from '../src/upstream/types';
import { quantile, sleep } from './stats';

export interface PollerHostOptions {
  simulatorUrl: string;
  simulatorKey: string;
  /** PostgreSQL; null for the embedded store in `dataDir` (a folder, so that a restart keeps the rows). */
  databaseUrl: string | null;
  dataDir: string;
  /** POLL_CONCURRENCY: polls in flight at once. */
  concurrency: number;
}

/** One simulator job to seed a generation for. */
export interface SeedJob {
  upstreamId: string;
  model: string;
  /** When the job was created (epoch ms). */
  startedAt: number;
  /** Steady state only: what the upstream reported last. */
  upstreamStatus?: string;
}

export type PollerHostRequest =
  /**
   * Inserts one in-flight generation per upstream job with SQL (10k GraphQL creates would take
   * minutes), as of `at` (epoch ms, after the seeding). `burst`: all created at `at`, their first polls
   * due evenly over the `spreadMs` after it. `steady`: each created at its job's `startedAt`, polled so
   * far on the gateway's own schedule, so its next poll is the schedule's first after `at`.
   */
  | { type: 'seed'; scenario: 'burst'; jobs: SeedJob[]; owners: number; at: number; spreadMs: number }
  | { type: 'seed'; scenario: 'steady'; jobs: SeedJob[]; owners: number; at: number }
  /** Measures the poller for `ms`: lateness of every poll claimed, CPU time, event-loop delay. */
  | { type: 'measure'; ms: number }
  /** Stops the gateway: its polls in flight (sent without a budget) end or are dropped. */
  | { type: 'stopGateway' }
  /**
   * Makes every in-flight generation due now (as after a long outage), and starts the stopped gateway
   * again with this upstream request budget.
   */
  | { type: 'restart'; ratePerSecond: number; burst: number }
  | { type: 'stop' };

export interface PollerMeasurement {
  seconds: number;
  polls: number;
  latenessP50Ms: number;
  latenessP95Ms: number;
  /** User + system CPU of the gateway process over the window, µs. */
  cpuMicros: number;
  eventLoopDelayP99Ms: number;
  /** Where a poll's time went over the window: each part's calls, p50 and p95 (ms). */
  parts: Record<PollPart, PartTimes>;
}

/**
 * The parts of a poll's round trip, timed in the gateway: the claim (one per batch of polls), the
 * upstream GET, the batched release of a poll that changed nothing (one statement per batch), and the
 * write of a poll that changed something.
 */
export type PollPart = 'claim' | 'upstreamGet' | 'releaseBatch' | 'changeWrite';

export interface PartTimes {
  calls: number;
  p50Ms: number;
  p95Ms: number;
}

const options = JSON.parse(process.argv[2]!) as PollerHostOptions;

function configFor(ratePerSecond: number, burst: number): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    AIMLAPI_API_KEY: options.simulatorKey,
    AIMLAPI_BASE_URL: options.simulatorUrl,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { DATA_DIR: options.dataDir }),
    DEV_API_KEY: 'false',
    SHUTDOWN_GRACE_MS: '200',
    QUOTA_CREATES_PER_MINUTE: '0',
    QUOTA_MAX_IN_FLIGHT: '0',
    QUOTA_REQUESTS_PER_SECOND: '0',
    POLL_CONCURRENCY: String(options.concurrency),
    UPSTREAM_BREAKER_FAILURES: '0',
    UPSTREAM_REQUESTS_PER_SECOND: String(ratePerSecond),
    UPSTREAM_REQUEST_BURST: String(burst),
    MEDIA_STORE: 'off',
    // The bench sends no GraphQL; the manifest is not copied into dist-bench, so it is read from src/.
    TRUSTED_DOCUMENTS: 'off',
    TRUSTED_DOCUMENTS_MANIFESTS: path.resolve(__dirname, '../../src/web/generated/persisted-documents.json'),
  });
}

/** One seeded generation's own columns (the rest come from its job, or are the schema's defaults). */
interface SeedRow {
  createdAt: Date;
  deadlineAt: Date;
  /** next_poll_at */
  next: Date;
  /** poll_count */
  polls: number;
  status: GenerationStatus;
  upstreamStatus: string | null;
}

/** The SQL session under the store: the bench fills rows with one statement instead of 10k inserts. */
function sqlOf(store: Store): SqlSession {
  return (store as unknown as { db(): SqlSession }).db();
}

/** Lateness (claim time − due time, ms) of each poll the poller claims while `recording`. */
let lateness: number[] = [];
let recording = false;
/** No durations yet for any part. */
const noPartTimes = (): Record<PollPart, number[]> => ({ claim: [], upstreamGet: [], releaseBatch: [], changeWrite: [] });
/** Each part's durations (ms) while `recording`. */
let partTimes = noPartTimes();

/** Replaces `target[key]` (a method) with one that records its duration under `part` while recording. */
function timeCalls<T extends object, K extends keyof T>(target: T, key: K, part: PollPart): void {
  const original = (target[key] as (...args: unknown[]) => Promise<unknown>).bind(target);
  target[key] = (async (...args: unknown[]) => {
    const started = performance.now();
    try {
      return await original(...args);
    } finally {
      if (recording) partTimes[part].push(performance.now() - started);
    }
  }) as T[K];
}

/**
 * Wraps the store's claim so each claimed generation's lateness is recorded (the poll starts right
 * after), and times each part of a poll (PollPart). The poller's upstream client is reached through its
 * private options: the app does not expose the client it wraps in the circuit breaker.
 */
function observeClaims(app: App): void {
  const store = app.store;
  timeCalls(store, 'releasePolled', 'releaseBatch');
  timeCalls(store, 'updateGeneration', 'changeWrite');
  timeCalls((app.poller as unknown as { options: { upstream: UpstreamClient } }).options.upstream, 'get', 'upstreamGet');
  const claim = store.claimDueGenerationsShared.bind(store);
  store.claimDueGenerationsShared = async (...args) => {
    const claimed: Generation[] = await claim(...args);
    if (recording) {
      const now = Date.now();
      for (const g of claimed) if (g.nextPollAt) lateness.push(now - g.nextPollAt.getTime());
    }
    return claimed;
  };
  timeCalls(store, 'claimDueGenerationsShared', 'claim');
}

async function main(): Promise<void> {
  // The first phase measures scheduling cost, so the budget is off; `restart` turns it on.
  let app = await startApp(configFor(0, 1));
  observeClaims(app);

  /**
   * One in-flight generation per job, owners spread over `owners`, with `rows[i]` for job i, in one
   * INSERT … SELECT over unnest: the poller sees none of them until all are in, and the columns left out
   * take the schema's defaults. The roll-up triggers stay on, as for a create through the API. The
   * poller is woken after, as a create would wake it.
   *
   * Issue 13: the seed used to copy one stored row per job with `(jsonb_populate_record(g, …)).*`,
   * which PostgreSQL evaluates once per column of the result: 10k rows took 17–21 s on the embedded
   * store at load average 5–10 (24–98 s in bench runs at load 11–29), this 4.5–5.5 s.
   */
  async function insertRows(jobs: SeedJob[], owners: number, rows: SeedRow[]): Promise<void> {
    const sql = sqlOf(app.store);
    await sql.query(
      `INSERT INTO generations (
         id, owner, model, input, input_hash, status, upstream_id, upstream_status,
         created_at, updated_at, deadline_at, version, transitions, next_poll_at, poll_count
       )
       SELECT r.id, r.owner, r.model, jsonb_build_object('model', r.model, 'prompt', 'poller scale'), 'bench', r.status,
              r.upstream_id, r.upstream_status, r.created_at, r.created_at, r.deadline_at, 1,
              jsonb_build_array(jsonb_build_object('status', r.status, 'upstreamStatus', NULL, 'at', r.created_at)),
              r.next_poll_at, r.poll_count
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::int[])
           AS r(id, owner, model, status, upstream_id, upstream_status, created_at, deadline_at, next_poll_at, poll_count)`,
      [
        jobs.map(() => randomUUID()),
        jobs.map((_, i) => `owner-${i % owners}`),
        jobs.map((j) => j.model),
        rows.map((r) => r.status),
        jobs.map((j) => j.upstreamId),
        rows.map((r) => r.upstreamStatus),
        rows.map((r) => r.createdAt.toISOString()),
        rows.map((r) => r.deadlineAt.toISOString()),
        rows.map((r) => r.next.toISOString()),
        rows.map((r) => r.polls),
      ],
    );
    await sql.query('ANALYZE generations');
    // A create through the API wakes the poller; rows written with SQL do not.
    app.poller.wake();
  }

  /**
   * The steady scenario's rows: created when their jobs started, each with the polls the gateway's own
   * schedule (catalogue-seeded, as on a fresh store) would have made by `at`, and its next one after.
   */
  async function seedSteady(jobs: SeedJob[], owners: number, at: number): Promise<{ overrunMs: number; insertMs: number }> {
    const { config } = app;
    const schedule = new PollSchedule({
      timeScale: config.timeScale,
      minIntervalMs: config.poll.minIntervalMs,
      maxIntervalMs: config.poll.maxIntervalMs,
      noticeTargetMs: config.timing.noticeTargetMs,
    });
    // A poll's next time depends only on the model and the time since creation, so each model's poll
    // times (ms from creation, as creation and then each poll schedule them) are worked out once.
    const longestAge = Math.max(...jobs.map((j) => at - j.startedAt));
    const pollTimes = new Map<string, number[]>();
    const timesFor = (model: string): number[] => {
      let times = pollTimes.get(model);
      if (!times) {
        const input = { model, prompt: 'poller scale' };
        const origin = new Date(0);
        const deadline = new Date(config.deadlineMs);
        times = [schedule.nextPollAt(input, origin, origin, deadline).getTime()];
        while (times.at(-1)! <= longestAge) times.push(schedule.nextPollAt(input, origin, new Date(times.at(-1)!), deadline).getTime());
        pollTimes.set(model, times);
      }
      return times;
    };
    const rows = jobs.map((j): SeedRow => {
      const createdAt = new Date(j.startedAt);
      const times = timesFor(j.model);
      const polls = times.findIndex((t) => t > at - j.startedAt);
      const mapped = mapUpstreamStatus(j.upstreamStatus ?? 'queued');
      const status = mapped.kind === 'pending' && polls > 0 ? mapped.status : GenerationStatus.QUEUED;
      return {
        createdAt,
        deadlineAt: new Date(createdAt.getTime() + config.deadlineMs),
        next: new Date(createdAt.getTime() + times[polls]!),
        polls,
        status,
        upstreamStatus: polls > 0 ? j.upstreamStatus! : null,
      };
    });
    const inserting = performance.now();
    await insertRows(jobs, owners, rows);
    return { overrunMs: Math.max(0, Date.now() - at), insertMs: performance.now() - inserting };
  }

  async function handle(req: PollerHostRequest): Promise<unknown> {
    switch (req.type) {
      case 'seed': {
        if (req.scenario === 'steady') return seedSteady(req.jobs, req.owners, req.at);
        const n = req.jobs.length;
        const inserting = performance.now();
        await insertRows(
          req.jobs,
          req.owners,
          req.jobs.map((_, i) => ({
            createdAt: new Date(req.at),
            deadlineAt: new Date(req.at + app.config.deadlineMs),
            next: new Date(req.at + ((i + 1) * req.spreadMs) / n),
            polls: 0,
            status: GenerationStatus.GENERATING,
            upstreamStatus: 'queued',
          })),
        );
        return { overrunMs: Math.max(0, Date.now() - req.at), insertMs: performance.now() - inserting };
      }
      case 'measure': {
        const delay = monitorEventLoopDelay({ resolution: 10 });
        lateness = [];
        partTimes = noPartTimes();
        recording = true;
        delay.enable();
        const cpu = process.cpuUsage();
        const started = performance.now();
        await sleep(req.ms);
        const used = process.cpuUsage(cpu);
        const seconds = (performance.now() - started) / 1000;
        recording = false;
        delay.disable();
        const m: PollerMeasurement = {
          seconds,
          polls: lateness.length,
          latenessP50Ms: quantile(lateness, 0.5),
          latenessP95Ms: quantile(lateness, 0.95),
          cpuMicros: used.user + used.system,
          eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
          parts: Object.fromEntries(
            Object.entries(partTimes).map(([part, ms]) => [part, { calls: ms.length, p50Ms: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95) }]),
          ) as Record<PollPart, PartTimes>,
        };
        return m;
      }
      case 'stopGateway': {
        await app.stop();
        return {};
      }
      case 'restart': {
        const config = configFor(req.ratePerSecond, req.burst);
        const store = await createStore(config, undefined, 'bench');
        await store.start();
        await sqlOf(store).query(
          `UPDATE generations SET next_poll_at = now() - interval '30 seconds', lease_owner = NULL, lease_until = NULL
           WHERE next_poll_at IS NOT NULL`,
        );
        await store.stop();
        app = await startApp(config);
        observeClaims(app);
        return { startedAt: Date.now() };
      }
      case 'stop': {
        await app.stop();
        setImmediate(() => process.exit(0));
        return {};
      }
    }
  }

  process.on('message', (msg: { seq: number; req: PollerHostRequest }) => {
    handle(msg.req).then(
      (reply) => process.send!({ seq: msg.seq, reply }),
      (err: unknown) => process.send!({ seq: msg.seq, error: String((err as Error)?.stack ?? err) }),
    );
  });
  process.send!({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
