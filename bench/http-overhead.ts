// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the tests compile this file through tsconfig.json, which does not include bench/ and so needs the path
/// <reference path="./autocannon.d.ts" />
/**
 * Benchmark 3, HTTP overhead: autocannon on two read queries against the gateway and against a
 * bare Apollo Server 5 with plain graphql-js resolvers over the same generations (copied from the
 * gateway's own answer). Both servers run in their own process; autocannon runs in this one.
 */
import autocannon, { type RawResult, type Result } from 'autocannon';
import { GENERATION_FIELDS, type PlainGeneration } from './bare-servers';
import { HostProcess, stopAll, type Started } from './processes';
import type { PauseWindow } from './pause-monitor';
import type { HostReady } from './server-host';

export interface HttpFigures {
  requestsPerSecond: number;
  p99Ms: number;
  /** Non-2xx answers and transport errors (must be 0 for the figures to count). */
  failures: number;
  /** What the failures were, e.g. `2 × HTTP 500, 1 transport error`; '' when none. */
  failureKinds: string;
  /**
   * The server process's CPU time (all its threads) per answered request over the measured load, in
   * ms: unlike req/s, it hardly moves with what else runs on the machine.
   */
  cpuPerRequestMs: number;
  /** Each window's p99 (ms), in the order run: how much the pooled p99 moves between windows. */
  windowP99sMs: number[];
}

export interface HttpOverheadResult {
  queries: { name: string; gateway: HttpFigures; baseline: HttpFigures }[];
}

export interface HttpOverheadOptions {
  /** Seconds of measured load per query and server. */
  durationSeconds: number;
  /** Windows the measured load of each server is split into, alternating between the two servers. */
  rounds: number;
  /** Seconds of unmeasured load before it, so JIT and caches settle. */
  warmupSeconds: number;
  connections: number;
  /** Generations both servers hold. */
  generations: number;
}

/** The gateway and the bare Apollo server, started side by side. */
export function startHttpServers(): [Promise<Started<HostReady>>, Promise<Started<HostReady>>] {
  return [HostProcess.start<HostReady>('server-host', ['gateway']), HostProcess.start<HostReady>('server-host', ['bare-apollo'])];
}

/** `started`: the servers, when started ahead (`startHttpServers`); else started here. */
export async function runHttpOverhead(o: HttpOverheadOptions, started = startHttpServers()): Promise<HttpOverheadResult> {
  try {
    const [gateway, baseline] = await Promise.all(started);
    const { generations } = await gateway.host.request<{ generations: PlainGeneration[] }>({ type: 'seedCompleted', count: o.generations });
    const { url: baselineUrl } = await baseline.host.request<{ url: string }>({ type: 'load', generations });
    const id = generations[0]!.id;
    const queries = [
      { name: 'videoGeneration(id)', body: { query: `query G($id: ID!) { videoGeneration(id: $id) { ${GENERATION_FIELDS} } }`, variables: { id } } },
      {
        name: 'videoGenerations(first: 20)',
        body: { query: `{ videoGenerations(first: 20) { nodes { ${GENERATION_FIELDS} } pageInfo { hasNextPage endCursor } } }` },
      },
    ];
    const out: HttpOverheadResult['queries'] = [];
    for (const q of queries) {
      const [gw, base] = await loadBoth(
        { host: gateway.host, url: gateway.first.url, key: gateway.first.key },
        { host: baseline.host, url: baselineUrl, key: '' },
        q.body,
        o,
      );
      out.push({ name: q.name, gateway: gw, baseline: base });
    }
    return { queries: out };
  } finally {
    await stopAll(started);
  }
}

/** One server's load: where it is, and how its host process is asked for CPU time and pauses. */
interface Target {
  host: HostProcess;
  url: string;
  key: string;
}

/**
 * Loads both servers in alternating windows (gateway, baseline, baseline, gateway, …: `rounds` windows
 * each, `durationSeconds` in all per server) so a change in the machine's load between windows falls on
 * both, and each server's latency histogram is merged over its windows: its p99 is that of every
 * request it answered, as with one window, but a burst of other work on the machine no longer lands on
 * one server only.
 */
async function loadBoth(gateway: Target, baseline: Target, body: unknown, o: HttpOverheadOptions): Promise<[HttpFigures, HttpFigures]> {
  const windowSeconds = o.durationSeconds / o.rounds;
  const both = [gateway, baseline] as const;
  const runs = both.map(() => ({ results: [] as RawResult[], seconds: 0, cpuMicros: 0 }));
  for (const t of both) if (o.warmupSeconds > 0) await autocannon({ ...request(t, body, o), duration: o.warmupSeconds });
  for (const t of both) await t.host.request({ type: 'pauses' });
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const t = both[i]!;
      const cpuBefore = await cpuMicros(t.host);
      const raw = await autocannon({ ...request(t, body, o), duration: windowSeconds, skipAggregateResult: true });
      runs[i]!.cpuMicros += (await cpuMicros(t.host)) - cpuBefore;
      runs[i]!.results.push(raw);
      runs[i]!.seconds += raw.duration;
    }
  }
  const figures = await Promise.all(
    both.map(async (t, i) => {
      const run = runs[i]!;
      const merged = autocannon.aggregateResult(run.results, { url: t.url, connections: o.connections });
      const pauses = await t.host.request<PauseWindow>({ type: 'pauses' });
      if (process.env.BENCH_DEBUG) console.error(`[http ${i === 0 ? 'gateway' : 'baseline'}] ${describePauses(pauses, merged.latency)}`);
      const total = run.results.reduce((n, r) => n + r.totalCompletedRequests, 0);
      return {
        requestsPerSecond: total / Math.max(1e-9, run.seconds),
        p99Ms: merged.latency.p99,
        failures: merged.non2xx + merged.errors + merged.timeouts,
        failureKinds: failureKinds(merged),
        cpuPerRequestMs: run.cpuMicros / 1000 / Math.max(1, total),
        windowP99sMs: run.results.map((r) => autocannon.aggregateResult([r], { url: t.url, connections: o.connections }).latency.p99),
      };
    }),
  );
  return [figures[0]!, figures[1]!];
}

function request(t: Target, body: unknown, o: HttpOverheadOptions) {
  return {
    url: t.url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...(t.key ? { authorization: `Bearer ${t.key}` } : {}) },
    body: JSON.stringify(body),
    connections: o.connections,
  };
}

/** Names each kind of failure, so a failed run says what to look for. */
export function failureKinds(r: Result): string {
  const kinds = Object.entries(r.statusCodeStats)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, s]) => `${s.count} × HTTP ${code}`);
  // autocannon counts a timeout as an error too.
  const transport = r.errors - r.timeouts;
  if (transport > 0) kinds.push(`${transport} transport error${transport === 1 ? '' : 's'}`);
  if (r.timeouts > 0) kinds.push(`${r.timeouts} timed out`);
  return kinds.join(', ');
}

async function cpuMicros(host: HostProcess): Promise<number> {
  return (await host.request<{ micros: number }>({ type: 'cpu' })).micros;
}

function describePauses(p: PauseWindow, latency: { p50: number; p99: number; max: number }): string {
  const gc = Object.entries(p.gc)
    .filter(([, k]) => k.count > 0)
    .map(([kind, k]) => `${kind} ${k.count}× ${k.totalMs.toFixed(0)} ms (max ${k.maxMs.toFixed(1)})`)
    .join(', ');
  return (
    `latency p50 ${latency.p50} p99 ${latency.p99} max ${latency.max} ms; event-loop delay p50 ${p.loopDelayP50Ms.toFixed(1)} ` +
    `p99 ${p.loopDelayP99Ms.toFixed(1)} max ${p.loopDelayMaxMs.toFixed(1)} ms; GC ${gc || 'none'}`
  );
}
