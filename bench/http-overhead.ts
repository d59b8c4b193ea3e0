// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the tests compile this file through tsconfig.json, which does not include bench/ and so needs the path
/// <reference path="./autocannon.d.ts" />
/**
 * Benchmark 3, HTTP overhead: autocannon on two read queries against the gateway and against a
 * bare Apollo Server 5 with plain graphql-js resolvers over the same generations (copied from the
 * gateway's own answer). Both servers run in their own process; autocannon runs in this one.
 */
import autocannon from 'autocannon';
import { GENERATION_FIELDS, type PlainGeneration } from './bare-servers';
import { HostProcess, stopAll, type Started } from './processes';
import type { HostReady } from './server-host';

export interface HttpFigures {
  requestsPerSecond: number;
  p99Ms: number;
  /** Non-2xx answers and transport errors (must be 0 for the figures to count). */
  failures: number;
  /**
   * The server process's CPU time (all its threads) per answered request over the measured load, in
   * ms: unlike req/s, it hardly moves with what else runs on the machine.
   */
  cpuPerRequestMs: number;
}

export interface HttpOverheadResult {
  queries: { name: string; gateway: HttpFigures; baseline: HttpFigures }[];
}

export interface HttpOverheadOptions {
  /** Seconds of measured load per query and server. */
  durationSeconds: number;
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
      const gw = await load(gateway.host, gateway.first.url, gateway.first.key, q.body, o);
      const base = await load(baseline.host, baselineUrl, '', q.body, o);
      out.push({ name: q.name, gateway: gw, baseline: base });
    }
    return { queries: out };
  } finally {
    await stopAll(started);
  }
}

async function load(host: HostProcess, url: string, key: string, body: unknown, o: HttpOverheadOptions): Promise<HttpFigures> {
  const request = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
    connections: o.connections,
  };
  if (o.warmupSeconds > 0) await autocannon({ ...request, duration: o.warmupSeconds });
  const cpu = async () => (await host.request<{ micros: number }>({ type: 'cpu' })).micros;
  const cpuBefore = await cpu();
  const result = await autocannon({ ...request, duration: o.durationSeconds });
  const cpuMicros = (await cpu()) - cpuBefore;
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuPerRequestMs: cpuMicros / 1000 / Math.max(1, result.requests.total),
  };
}
