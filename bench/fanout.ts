/**
 * Benchmark 2, subscription fan-out: N WebSocket connections with one subscription each, held by
 * driver processes separate from the server; every watched generation completes at once, and
 * each connection's receipt is timed from the first publish. The baseline is a bare graphql-ws +
 * graphql-js server with an equivalent subscription, driven by the same drivers. The SSE tier
 * holds N GraphQL over SSE streams against the gateway instead, set beside the gateway's own
 * WebSocket figures of the same run.
 */
import { execSync } from 'node:child_process';
import { defaultMaxConnections } from '../src/server/connection-limits';
import type { HostKind, HostReady } from './server-host';
import { HostProcess, type Started } from './processes';
import { quantile } from './stats';

/** How the drivers subscribe: graphql-ws, or GraphQL over SSE (distinct connections). */
export type FanoutTransport = 'ws' | 'sse';

export interface FanoutFigures {
  server: HostKind;
  transport: FanoutTransport;
  connections: number;
  subscribed: number;
  received: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  heapPerConnectionKB: number;
  rssPerConnectionKB: number;
}

/** Connections one driver process holds at most. */
const PER_DRIVER = 5_000;

/**
 * The open-file limit caps connections per process (one fd each, plus the server's own). The gateway
 * caps them below it (MAX_CONNECTIONS, by default from that limit: connection-limits.ts) and answers the
 * rest 503, so both servers get the gateway's cap: a run past it measures refusals, not fan-out.
 */
export function connectionCap(): number {
  let open = Infinity;
  try {
    const soft = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
    if (Number.isFinite(soft)) open = soft - 512;
  } catch {
    // No shell: the gateway's own cap below still applies.
  }
  return Math.min(open, defaultMaxConnections());
}

/**
 * Deadlines of a run's phases, generous for a loaded 2-core machine (1k WebSocket connections took
 * 48 s to subscribe under a load average of 17): a phase past its deadline fails the run with its
 * name instead of holding the whole bench. Collecting has its own (the drivers' 60 s).
 */
const START_DEADLINE_MS = 180_000;
const perConnectionDeadline = (fixedMs: number, msEach: number, n: number) => fixedMs + msEach * n;

/** `promise`, or an error naming `what` once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The server a fan-out run measures, started with the flags the run needs. */
export function startFanoutServer(kind: 'gateway' | 'bare-ws'): Promise<Started<HostReady>> {
  return HostProcess.start<HostReady>('server-host', [kind], ['--expose-gc']);
}

/** `started`: the server, when started ahead (its start is not timed); else started here. */
export async function runFanout(
  kind: 'gateway' | 'bare-ws',
  requested: number,
  started = startFanoutServer(kind),
  transport: FanoutTransport = 'ws',
): Promise<FanoutFigures> {
  const t0 = Date.now();
  const phase = (name: string) => process.env.BENCH_DEBUG && console.error(`[fanout ${kind} ${requested}] ${name} +${Date.now() - t0} ms`);
  const connections = Math.min(requested, connectionCap());
  const label = `fan-out ${connections}, ${kind} over ${transport === 'sse' ? 'SSE' : 'WebSocket'}`;
  const { host, first } = await within(started, START_DEADLINE_MS, `${label}: starting the server`);
  const drivers: HostProcess[] = [];
  try {
    phase('host ready');
    const { ids } = await within(
      host.request<{ ids: string[] }>({ type: 'seedPending', count: connections }),
      perConnectionDeadline(60_000, 50, connections),
      `${label}: seeding ${connections} generations`,
    );
    phase('seeded');
    const before = await host.request<{ heapUsed: number; rss: number }>({ type: 'memory' });
    const driverCount = Math.ceil(connections / PER_DRIVER);
    for (let d = 0; d < driverCount; d++) {
      drivers.push((await within(HostProcess.start('fanout-driver', []), START_DEADLINE_MS, `${label}: starting a driver`)).host);
    }
    const shares = drivers.map((_, d) => ids.filter((_, i) => i % driverCount === d));
    const subscribing = Promise.all(
      drivers.map((driver, d) =>
        driver.request<{ subscribed: number }>(
          transport === 'sse'
            ? { type: 'subscribeSse', url: first.url, key: first.key, ids: shares[d] }
            : { type: 'subscribe', wsUrl: first.wsUrl, key: first.key, ids: shares[d] },
        ),
      ),
    );
    // Streams open 200 at a time per driver; each waits for its snapshot, one store read.
    const subscribedReplies = await within(
      subscribing,
      perConnectionDeadline(60_000, 200, Math.ceil(connections / driverCount)),
      `${label}: opening ${connections} subscriptions and receiving their snapshots`,
    );
    phase('subscribed');
    const subscribed = subscribedReplies.reduce((n, r) => n + r.subscribed, 0);
    if (subscribed === 0) throw new Error(`${label}: no subscription received its snapshot`);
    const after = await host.request<{ heapUsed: number; rss: number }>({ type: 'memory' });
    // BENCH_HEAP_SNAPSHOT_DIR: keep a heap snapshot of the server with every connection subscribed.
    const snapshots = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    if (snapshots) await host.request({ type: 'heapSnapshot', path: `${snapshots}/${kind}-${transport}-${connections}.heapsnapshot` });
    const collecting = drivers.map((driver) => driver.request<{ receipts: number[] }>({ type: 'collect', timeoutMs: 60_000 }));
    const { at, cpuAt } = await within(
      host.request<{ at: number; cpuAt: number }>({ type: 'completeAll' }),
      perConnectionDeadline(60_000, 50, connections),
      `${label}: completing ${connections} generations`,
    );
    phase('published');
    const collected = await within(Promise.all(collecting), 90_000, `${label}: collecting the receipts`);
    const latencies = collected.flatMap((r) => r.receipts.map((t) => t - at));
    // The server's CPU from the first publish to the last receipt: its own per-event work, which the
    // latency mixes with the drivers' (they share the cores). Less noisy than a p99 on a busy machine.
    const { micros } = await host.request<{ micros: number }>({ type: 'cpu' });
    phase(`collected (server CPU for the delivery: ${((micros - cpuAt) / 1000).toFixed(0)} ms)`);
    return {
      server: kind,
      transport,
      connections,
      subscribed,
      received: latencies.length,
      latencyP50Ms: quantile(latencies, 0.5),
      latencyP99Ms: quantile(latencies, 0.99),
      heapPerConnectionKB: (after.heapUsed - before.heapUsed) / subscribed / 1024,
      rssPerConnectionKB: (after.rss - before.rss) / subscribed / 1024,
    };
  } finally {
    await Promise.all(drivers.map((d) => d.stop()));
    await host.stop();
  }
}
