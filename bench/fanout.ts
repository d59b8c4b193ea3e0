/**
 * Benchmark 2, subscription fan-out: N WebSocket connections with one subscription each, held by
 * driver processes separate from the server; every watched generation completes at once, and
 * each connection's receipt is timed from the first publish. The baseline is a bare graphql-ws +
 * graphql-js server with an equivalent subscription, driven by the same drivers.
 */
import { execSync } from 'node:child_process';
import type { HostKind, HostReady } from './server-host';
import { HostProcess, type Started } from './processes';
import { quantile } from './stats';

export interface FanoutFigures {
  server: HostKind;
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

/** The open-file limit caps connections per process (one fd each, plus the server's own). */
export function connectionCap(): number {
  try {
    const hard = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
    return Number.isFinite(hard) ? hard - 512 : Infinity;
  } catch {
    return Infinity;
  }
}

/** The server a fan-out run measures, started with the flags the run needs. */
export function startFanoutServer(kind: 'gateway' | 'bare-ws'): Promise<Started<HostReady>> {
  return HostProcess.start<HostReady>('server-host', [kind], ['--expose-gc']);
}

/** `started`: the server, when started ahead (its start is not timed); else started here. */
export async function runFanout(kind: 'gateway' | 'bare-ws', requested: number, started = startFanoutServer(kind)): Promise<FanoutFigures> {
  const t0 = Date.now();
  const phase = (name: string) => process.env.BENCH_DEBUG && console.error(`[fanout ${kind} ${requested}] ${name} +${Date.now() - t0} ms`);
  const connections = Math.min(requested, connectionCap());
  const { host, first } = await started;
  const drivers: HostProcess[] = [];
  try {
    phase('host ready');
    const { ids } = await host.request<{ ids: string[] }>({ type: 'seedPending', count: connections });
    phase('seeded');
    const before = await host.request<{ heapUsed: number; rss: number }>({ type: 'memory' });
    const driverCount = Math.ceil(connections / PER_DRIVER);
    for (let d = 0; d < driverCount; d++) drivers.push((await HostProcess.start('fanout-driver', [])).host);
    const shares = drivers.map((_, d) => ids.filter((_, i) => i % driverCount === d));
    const subscribedReplies = await Promise.all(
      drivers.map((driver, d) => driver.request<{ subscribed: number }>({ type: 'subscribe', wsUrl: first.wsUrl, key: first.key, ids: shares[d] })),
    );
    phase('subscribed');
    const subscribed = subscribedReplies.reduce((n, r) => n + r.subscribed, 0);
    const after = await host.request<{ heapUsed: number; rss: number }>({ type: 'memory' });
    // BENCH_HEAP_SNAPSHOT_DIR: keep a heap snapshot of the server with every connection subscribed.
    const snapshots = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    if (snapshots) await host.request({ type: 'heapSnapshot', path: `${snapshots}/${kind}-${connections}.heapsnapshot` });
    const collecting = drivers.map((driver) => driver.request<{ receipts: number[] }>({ type: 'collect', timeoutMs: 60_000 }));
    const { at, cpuAt } = await host.request<{ at: number; cpuAt: number }>({ type: 'completeAll' });
    phase('published');
    const latencies = (await Promise.all(collecting)).flatMap((r) => r.receipts.map((t) => t - at));
    // The server's CPU from the first publish to the last receipt: its own per-event work, which the
    // latency mixes with the drivers' (they share the cores). Less noisy than a p99 on a busy machine.
    const { micros } = await host.request<{ micros: number }>({ type: 'cpu' });
    phase(`collected (server CPU for the delivery: ${((micros - cpuAt) / 1000).toFixed(0)} ms)`);
    return {
      server: kind,
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
