/**
 * The attack benchmark (issue 10's "Done when"): a gateway (server-host, in its own process) is
 * measured for a bounded time with only a legitimate client, then for the same time while the
 * attack driver (its own process) runs attacks 1–3. It reports the gateway's peak RSS and heap and
 * the legitimate client's p50/p99 in both phases, and whether the gateway is still alive and ready.
 * A figure, not a timed test: targets are judged in the table (peak RSS < 1.5× the unattacked
 * phase's, legitimate p99 < 5× its unattacked value, process alive).
 */
import type { AttackReport, AttackRequest, AttackSizes } from './attack-driver';
import { rssOf } from './process-memory';
import { HostProcess, type Started } from './processes';
import type { HostReady, HostRequest } from './server-host';
import { preciseNow, quantile, sleep } from './stats';

export interface AttackPlan {
  /** Length of each phase (no attack, then attack), in s. */
  phaseSeconds: number;
  /** Attack 2: the attacker's generations, each with an `imageBytes`-long data URI as imageUrl. */
  largeGenerations: number;
  imageBytes: number;
  sizes: AttackSizes;
}

export interface PhaseFigures {
  legitP50Ms: number;
  legitP99Ms: number;
  legitRequests: number;
  /** Legitimate requests that failed (not HTTP 200 with data, or no answer within 10 s); their wait counts in p50/p99. */
  legitFailures: number;
  peakRssMB: number;
  peakHeapMB: number;
}

export interface AttackFigures {
  quiet: PhaseFigures;
  attacked: PhaseFigures;
  /** The gateway process still runs and answers /readyz 200 within 30 s after the attack (memory sampled meanwhile). */
  alive: boolean;
  report: AttackReport;
}

/** What the legitimate client asks, again and again: its own (empty) list, as a dashboard would. */
const LEGIT_QUERY = '{ videoGenerations(first: 10) { nodes { id status } } }';
const LEGIT_TIMEOUT_MS = 10_000;
const SAMPLE_EVERY_MS = 100;
const MB = 2 ** 20;

export async function runAttacks(
  plan: AttackPlan,
  /** The gateway host to attack (`HostProcess.start('server-host', ['gateway'], ['--expose-gc'])`); the caller stops it. */
  started: Promise<Started<HostReady>>,
): Promise<AttackFigures> {
  const { host, first } = await started;
  const { host: driver } = await HostProcess.start<{ type: 'ready' }>('attack-driver', []);
  try {
    const { key: attackerKey } = await host.request<{ key: string }>({ type: 'createKey', owner: 'attacker' } satisfies HostRequest);
    const { ids } = await host.request<{ ids: string[] }>({
      type: 'seedLarge',
      owner: 'attacker',
      count: plan.largeGenerations,
      imageBytes: plan.imageBytes,
    } satisfies HostRequest);
    const phaseMs = plan.phaseSeconds * 1000;
    // A short warm-up so the first phase does not time the first requests' compilation.
    await legitimateClient(first, Date.now() + Math.min(1_000, phaseMs));
    const quiet = await phase(host, first, phaseMs, async () => undefined);
    let report: AttackReport = {};
    let alive = false;
    const recovered = async () => void (alive = await isAlive(host, first));
    const attacked = await phase(
      host,
      first,
      phaseMs,
      async () => {
        report = await driver.request<AttackReport>({
          type: 'run',
          url: first.url,
          wsUrl: first.wsUrl,
          attackerKey,
          generationIds: ids,
          durationMs: phaseMs,
          sizes: plan.sizes,
        } satisfies AttackRequest);
      },
      recovered,
    );
    // What the attacker sent and got, and how the gateway ended, for the reader of the run (not table figures).
    const child = host.child;
    const state =
      child.exitCode !== null || child.signalCode !== null
        ? `exited (${child.exitCode ?? child.signalCode})`
        : alive
          ? 'running and ready'
          : 'running, but /readyz did not answer 200 within 30 s';
    console.error(`  attack traffic: ${JSON.stringify(report)}\n  gateway after the attack: ${state}`);
    return { quiet, attacked, alive, report };
  } finally {
    await driver.stop();
  }
}

/** Runs the legitimate client and the memory sampler for `ms`, beside `alongside` (the attack, or nothing). */
async function phase(
  host: HostProcess,
  server: HostReady,
  ms: number,
  alongside: () => Promise<void>,
  /** Runs after the phase with memory still sampled (the attack's aftermath counts in its peaks). */
  after: () => Promise<void> = async () => undefined,
): Promise<PhaseFigures> {
  const deadline = Date.now() + ms;
  let over = false;
  const sampler = sampleMemory(host, () => over);
  const [legit] = await Promise.all([legitimateClient(server, deadline), alongside().catch(() => undefined)]);
  await after();
  over = true;
  await sampler.done;
  return {
    legitP50Ms: quantile(legit.latencies, 0.5),
    legitP99Ms: quantile(legit.latencies, 0.99),
    legitRequests: legit.latencies.length,
    legitFailures: legit.failures,
    peakRssMB: sampler.peakRss / MB,
    peakHeapMB: sampler.peakHeap / MB,
  };
}

/**
 * One request at a time until the deadline. A failure counts, and its time (up to the 10 s timeout)
 * is a latency too: a client that waited 10 s for nothing did not see a fast gateway.
 */
async function legitimateClient(server: HostReady, deadline: number): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  while (Date.now() < deadline) {
    const t = preciseNow();
    try {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
        body: JSON.stringify({ query: LEGIT_QUERY }),
        signal: AbortSignal.timeout(LEGIT_TIMEOUT_MS),
      });
      const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
      if (!(res.status === 200 && body.data && !body.errors)) failures++;
    } catch {
      failures++;
      latencies.push(preciseNow() - t);
      // A refused connection fails at once: do not spin on a gateway that is gone.
      await sleep(50);
      continue;
    }
    latencies.push(preciseNow() - t);
  }
  return { latencies, failures };
}

/**
 * Peak RSS from /proc (read here, so a gateway too busy to answer is still measured) and peak heap
 * by IPC (skipped while an answer is pending), every SAMPLE_EVERY_MS until `until()`.
 */
function sampleMemory(host: HostProcess, until: () => boolean): { done: Promise<void>; peakRss: number; peakHeap: number } {
  const state = { done: Promise.resolve(), peakRss: 0, peakHeap: 0 };
  const pid = host.child.pid!;
  let heapPending = false;
  state.done = (async () => {
    while (!until() && host.child.exitCode === null && host.child.signalCode === null) {
      state.peakRss = Math.max(state.peakRss, rssOf(pid));
      if (!heapPending) {
        heapPending = true;
        host
          .request<{ heapUsed: number; rss: number }>({ type: 'memoryNow' } satisfies HostRequest)
          .then((m) => {
            state.peakHeap = Math.max(state.peakHeap, m.heapUsed);
            state.peakRss = Math.max(state.peakRss, m.rss);
          })
          .catch(() => undefined)
          .finally(() => (heapPending = false));
      }
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  return state;
}

async function isAlive(host: HostProcess, server: HostReady): Promise<boolean> {
  if (host.child.exitCode !== null || host.child.signalCode !== null) return false;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(server.url.replace(/\/graphql$/, '/readyz'), { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return true;
    } catch {
      // still recovering: ask again
    }
    await sleep(500);
  }
  return false;
}
