/**
 * Test harness for running several instances: a real PostgreSQL 15 and a real Redis, each in a
 * temporary folder on a random 127.0.0.1 port, and gateway processes (`node dist/main.js`) pointed at
 * them. Every process started here is killed when the test process exits, even after a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;
const GATEWAY_MAIN = resolve(__dirname, '../../dist/main.js');

/** Every child this harness started, killed with SIGKILL when the test process exits. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** What is missing to run the scale-out suite here, or null when PostgreSQL and Redis are both installed. */
export function missingServices(): string | null {
  const missing: string[] = [];
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'postgres'))) missing.push(`PostgreSQL 15 (${PG_BIN})`);
  if (!REDIS_SERVER) missing.push('redis-server');
  return missing.length ? missing.join(' and ') : null;
}

/** `describe`, or `describe.skip` with a loud warning when the services are not installed. */
export function describeWithServices(name: string, fn: () => void): void {
  const missing = missingServices();
  if (missing) {
    console.warn(`\n!!! SKIPPED "${name}": ${missing} not installed. CI installs them (apt-get install postgresql redis-server).\n`);
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
async function terminate(child: ChildProcess | null, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (!child) return;
  const gone = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** PostgreSQL refuses to run as root: when we are root, its processes run as the `postgres` user. */
function postgresIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root, but there is no postgres user');
  return { uid, gid };
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** Fast shutdown (clients are disconnected). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'veo-pg-'));
  const identity = postgresIdentity();
  if (identity) chownSync(dir, identity.uid, identity.gid);
  const data = join(dir, 'data');
  const init = spawnSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], {
    ...identity,
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  let output = '';

  const start = async () => {
    output = '';
    child = track(
      spawn(
        join(PG_BIN, 'postgres'),
        [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          dir,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
        ],
        { ...identity, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited at start:\n${output}`);
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 20 s:\n${output}`);
      await sleep(100);
    }
  };
  const stop = async () => {
    await terminate(child, 'SIGINT');
    child = null;
  };
  await start();
  return {
    url,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted). */
  start(): Promise<void>;
  destroy(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers, as in a freeze or a partition; `resume()` (SIGCONT) thaws it. */
  pause(): void;
  resume(): void;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    let output = '';
    child = track(
      spawn(REDIS_SERVER!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const current = child;
    await new Promise<void>((ready, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          ready();
        }
      };
      current.stdout!.on('data', onData);
      current.stderr!.on('data', onData);
      current.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited at start:\n${output}`));
      });
    });
  };
  const stop = async () => {
    await terminate(child, 'SIGTERM');
    child = null;
  };
  await start();
  return {
    url,
    start,
    stop,
    destroy: async () => {
      child?.kill('SIGCONT');
      await stop();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}

export interface GatewayProcess {
  /** The value of INSTANCE_ID. */
  readonly name: string;
  readonly pid: number;
  /** GraphQL over HTTP, e.g. http://127.0.0.1:41234/graphql */
  readonly url: string;
  readonly wsUrl: string;
  /** stdout and stderr so far (the banner, then pino's JSON lines). */
  output(): string;
  /** SIGKILL: no shutdown at all, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
  /** SIGSTOP: frozen mid-whatever, as in a long GC pause or a partition; `resume()` (SIGCONT) thaws it. */
  pause(): void;
  resume(): void;
  /**
   * False from the moment kill() or stop() is called, not only once the exit is seen: a client that
   * reconnects in the same turn of the event loop as the kill (its retry timer runs before the exit
   * event on a busy loop) must not pick this instance.
   */
  readonly alive: boolean;
  /** The exit code once it exited (null while running, or when a signal ended it). */
  readonly exitCode: number | null;
}

/**
 * Starts `node dist/main.js` (built by `npm test` before jest runs) with PORT=0 and reads the address
 * it listens on from its start-up banner.
 */
export async function startGatewayProcess(
  name: string,
  env: Record<string, string>,
  /** `startTimeoutMs` (default 20 000): an embedded data folder's first start runs initdb (tens of seconds on a loaded machine). */
  options: { startTimeoutMs?: number } = {},
): Promise<GatewayProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  if (!existsSync(GATEWAY_MAIN)) throw new Error(`${GATEWAY_MAIN} is missing: run \`npm run build\` first (npm test does)`);
  let output = '';
  const child = track(
    spawn(process.execPath, [GATEWAY_MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        DEV_API_KEY: 'false',
        LOG_LEVEL: 'info',
        SHUTDOWN_GRACE_MS: '500',
        INSTANCE_ID: name,
        // Per-owner quotas and the circuit breaker are off unless a test turns them on, as in gateway.ts.
        QUOTA_CREATES_PER_MINUTE: '0',
        QUOTA_MAX_IN_FLIGHT: '0',
        QUOTA_REQUESTS_PER_SECOND: '0',
        QUOTA_MAX_SUBSCRIPTIONS: '0',
        ANONYMOUS_REQUESTS_PER_MINUTE: '0',
        UPSTREAM_BREAKER_FAILURES: '0',
        // The upstream request budget too (test/e2e/upstream-budget.test.ts has its own): suites at time scale
        // 0.01 poll every few ms on purpose.
        UPSTREAM_REQUESTS_PER_SECOND: '0',
        // The media store (copies of finished videos, a new version per copy) is off unless a test turns it on
        // (test/e2e/media-store.test.ts): other suites count the versions and events of a generation.
        MEDIA_STORE: 'off',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((ready, reject) => {
    const timer = setTimeout(() => {
      // Not left running: it could hold a port or a data folder the next test needs.
      child.kill('SIGKILL');
      reject(new Error(`gateway ${name} did not start within ${startTimeoutMs / 1000} s:\n${output}`));
    }, startTimeoutMs);
    const onData = () => {
      const match = /GraphQL \(HTTP\):\s+(http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        ready(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`gateway ${name} exited at start (${code ?? signal}):\n${output}`));
    });
  });
  let ending = false;
  const end = (signal: NodeJS.Signals) => {
    ending = true;
    return terminate(child, signal);
  };
  return {
    name,
    pid: child.pid!,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    output: () => output,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    get alive() {
      return !ending && child.exitCode === null && child.signalCode === null;
    },
    get exitCode() {
      return child.exitCode;
    },
  };
}
