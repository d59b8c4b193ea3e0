/**
 * Benchmark 4, the create path and start-up. The latency the gateway adds to a create over calling
 * its upstream (the simulator, in the gateway's process) directly, sequentially; and the time from
 * spawning the real entry point (`main.js`) to a 200 on /readyz, with its idle RSS after that.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { graphqlInput, modelMix, wireBody } from './inputs';
import { HostProcess, type Started } from './processes';
import type { HostReady } from './server-host';
import { preciseNow, quantile, sleep } from './stats';

export interface CreatePathResult {
  creates: number;
  gatewayP50Ms: number;
  gatewayP99Ms: number;
  directP50Ms: number;
  directP99Ms: number;
}

export interface StartupResult {
  /** Spawn to the first 200 from /readyz, in ms. */
  readyMs: number;
  /** CPU time (user + system, every thread of the process) at that 200, in ms: steadier than readyMs on a loaded machine. NaN without /proc. */
  cpuToReadyMs: number;
  /** Resident set size 1 s after ready, in MB. */
  idleRssMB: number;
  /** The main thread's V8 heap in use and reserved, and its memory outside the heap (buffers), in MB, from the gateway's /metrics. */
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
}

const CREATE = 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id status } }';

/** `started`: a gateway host started ahead (e.g. beside the HTTP benchmark's servers); else started here. */
export async function runCreatePath(
  creates: number,
  started: Promise<Started<HostReady>> = HostProcess.start<HostReady>('server-host', ['gateway']),
): Promise<CreatePathResult> {
  const { host, first } = await started;
  try {
    const models = modelMix(Math.ceil(creates / 17)).slice(0, creates);
    const viaGateway: number[] = [];
    const direct: number[] = [];
    // Interleaved, so drift in the machine's load hits both sides alike.
    for (const model of models) {
      let t = preciseNow();
      const a = await fetch(first.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.key}` },
        body: JSON.stringify({ query: CREATE, variables: { input: graphqlInput(model) } }),
      });
      await a.json();
      viaGateway.push(preciseNow() - t);
      if (a.status !== 200) throw new Error(`gateway create failed: ${a.status}`);
      t = preciseNow();
      const b = await fetch(`${first.simulatorUrl}/v2/video/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.simulatorKey}` },
        body: JSON.stringify(wireBody(model)),
      });
      await b.json();
      direct.push(preciseNow() - t);
      if (b.status !== 201) throw new Error(`direct create failed: ${b.status}`);
    }
    return {
      creates,
      gatewayP50Ms: quantile(viaGateway, 0.5),
      gatewayP99Ms: quantile(viaGateway, 0.99),
      directP50Ms: quantile(direct, 0.5),
      directP99Ms: quantile(direct, 0.99),
    };
  } finally {
    await host.stop();
  }
}

/** The compiled entry point: next to this build (dist-bench), else the app build (dist/). */
export function compiledMain(): string {
  const besideBench = path.resolve(__dirname, '../src/main.js');
  return existsSync(besideBench) ? besideBench : path.resolve(__dirname, '../dist/main.js');
}

/**
 * Where the store is for a start: in memory, or the embedded default's data folder (`DATA_DIR`), whose
 * first start initialises it (initdb) and whose later starts open it, or PostgreSQL (`DATABASE_URL`,
 * with `dataDir` for the media folder).
 */
export type StartupStore = { inMemory: true } | { dataDir: string; databaseUrl?: string };

export interface StartupOptions {
  /**
   * Preloads the modules that only some deployments use, as every start loaded them before they were
   * loaded lazily (issue 14): the baseline of the same start in the same run.
   */
  eager?: boolean;
  /** More environment for the gateway. */
  env?: Record<string, string>;
  /**
   * As every start ran before the 2026-12-03 round of issue 14: without DEPLOYED_ENV (glibc's default allocator
   * settings) and with V8's default WASM tiering budget. `--max-semi-space-size=2` is kept.
   */
  defaultAllocatorAndTiering?: boolean;
}

/** Packages that only some deployments use (Redis, PostgreSQL, S3, SSE; PGlite's JavaScript, which runs on its own thread). */
const OPTIONAL_PACKAGES = [
  'ioredis',
  '@graphql-yoga/redis-event-target',
  'pg',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@aws-sdk/s3-request-presigner',
  'graphql-sse',
  '@electric-sql/pglite',
];

/** Node's flags as `npm start` and the Dockerfile run the gateway (see docs/operations.md). */
const DEPLOYED_NODE_FLAGS = ['--max-semi-space-size=2', '--wasm-tiering-budget=18000000'];

/** The environment `npm start` and the Dockerfile give the gateway's process (see docs/operations.md). */
export const DEPLOYED_ENV = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  // Kept between runs, as a deployment keeps it between starts (Node 22.1+; Node 20 ignores it).
  NODE_COMPILE_CACHE: path.resolve(__dirname, '../../node_modules/.cache/veo-bench/node-compile-cache'),
};

/** `--require` arguments that load the optional packages and the simulator before `mainJs` starts. */
function eagerPreloads(mainJs: string): string[] {
  const files = [...OPTIONAL_PACKAGES.map((name) => require.resolve(name)), path.join(path.dirname(mainJs), 'simulator', 'server.js')];
  return files.flatMap((file) => ['--require', file]);
}

/** A first start on a store, then its later starts and their baseline's (see laterStarts). */
export interface StoreStartups {
  first: StartupResult;
  /** The later start of median time to ready, and the baseline's. */
  later: StartupResult;
  eager: StartupResult;
  /** Every later start's and baseline start's time to ready, in the order run (ms). */
  laterReadyMs: number[];
  eagerReadyMs: number[];
}

/**
 * Later starts of each kind per store: one start's time to ready swings by a fifth between starts
 * minutes apart on this machine, so each figure is the median of this many, alternating with the
 * baseline's so that a change in the machine's load reaches both.
 */
export const LATER_STARTS = 5;

async function laterStarts(start: () => Promise<StartupResult>, baseline: () => Promise<StartupResult>): Promise<Omit<StoreStartups, 'first'>> {
  const ours: StartupResult[] = [];
  const eager: StartupResult[] = [];
  for (let i = 0; i < LATER_STARTS; i++) {
    ours.push(await start());
    eager.push(await baseline());
  }
  const median = (starts: StartupResult[]) => [...starts].sort((a, b) => a.readyMs - b.readyMs)[Math.floor(starts.length / 2)]!;
  return { later: median(ours), eager: median(eager), laterReadyMs: ours.map((r) => r.readyMs), eagerReadyMs: eager.map((r) => r.readyMs) };
}

/** The start-up figures of the embedded default: a first start on a fresh data folder, then later ones, lazily and eagerly loaded. */
export async function runDataFolderStartups(mainJs = compiledMain()): Promise<StoreStartups> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'veo-bench-startup-'));
  try {
    const first = await runStartup(mainJs, { dataDir });
    const later = await laterStarts(
      () => runStartup(mainJs, { dataDir }),
      () => runStartup(mainJs, { dataDir }, { eager: true, defaultAllocatorAndTiering: true }),
    );
    return { first, ...later };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The same on PostgreSQL (a fresh database on `serverUrl`'s server; its first start migrates it), as a
 * deployment on PostgreSQL runs: with an upstream key, so without the simulator. Nothing calls the
 * upstream while the gateway idles (nothing is in flight), so the key and address are placeholders.
 */
export async function runPostgresStartups(serverUrl: string, mainJs = compiledMain()): Promise<StoreStartups> {
  const name = `bench_startup_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'veo-bench-startup-pg-'));
  try {
    const own = new URL(serverUrl);
    own.pathname = `/${name}`;
    const store = { dataDir, databaseUrl: own.toString() };
    const env = { AIMLAPI_API_KEY: 'bench-placeholder-key', AIMLAPI_BASE_URL: 'http://127.0.0.1:9' };
    const first = await runStartup(mainJs, store, { env });
    const later = await laterStarts(
      () => runStartup(mainJs, store, { env }),
      () => runStartup(mainJs, store, { env, eager: true, defaultAllocatorAndTiering: true }),
    );
    return { first, ...later };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Spawns the real entry point and times it to ready. */
export async function runStartup(
  mainJs = compiledMain(),
  store: StartupStore = { inMemory: true },
  options: StartupOptions = {},
): Promise<StartupResult> {
  const started = preciseNow();
  const storeEnv =
    'inMemory' in store
      ? { DATA_IN_MEMORY: 'true' }
      : { DATA_IN_MEMORY: 'false', DATA_DIR: store.dataDir, ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}) };
  const nodeFlags = options.defaultAllocatorAndTiering
    ? DEPLOYED_NODE_FLAGS.filter((f) => !f.startsWith('--wasm-tiering-budget'))
    : DEPLOYED_NODE_FLAGS;
  const child = spawn(process.execPath, [...nodeFlags, ...(options.eager ? eagerPreloads(mainJs) : []), mainJs], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      ...storeEnv,
      SIMULATOR_PORT: '0',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
      ...(options.defaultAllocatorAndTiering ? {} : DEPLOYED_ENV),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A first start on a data folder runs initdb: over a minute on a loaded machine.
    const deadline = Date.now() + ('inMemory' in store ? 60_000 : 180_000);
    let readyAt: number | null = null;
    let cpuToReadyMs = NaN;
    let base = '';
    while (readyAt === null) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not become ready:\n${output}`);
      base = /GraphQL \(HTTP\):\s+(http:\/\/\S+)\/graphql/.exec(output)?.[1] ?? '';
      if (base) {
        const res = await fetch(`${base}/readyz`).catch(() => null);
        if (res?.status === 200) {
          readyAt = preciseNow();
          cpuToReadyMs = processCpuMs(child.pid!);
        }
        await res?.arrayBuffer();
      }
      if (readyAt === null) await sleep(5);
    }
    await sleep(1_000);
    // Read before the scrape below, which allocates.
    const rssKB = Number(
      execFileSync('ps', ['-o', 'rss=', '-p', String(child.pid)])
        .toString()
        .trim(),
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const mb = (name: string) => {
      const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1];
      if (value === undefined) throw new Error(`/metrics has no ${name}`);
      return Number(value) / 2 ** 20;
    };
    return {
      readyMs: readyAt - started,
      cpuToReadyMs,
      idleRssMB: rssKB / 1024,
      heapUsedMB: mb('nodejs_heap_size_used_bytes'),
      heapTotalMB: mb('nodejs_heap_size_total_bytes'),
      externalMB: mb('nodejs_external_memory_bytes'),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** User + system CPU time of process `pid` and all its threads so far, in ms (fields 14–15 of /proc/<pid>/stat, in clock ticks of 10 ms); NaN without /proc. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
