/**
 * Benchmark 1, upstream efficiency: the gateway's adaptive poller against the vendor's fixed 10 s
 * loop, on the same simulated jobs (two simulators with the same seed draw the same durations for
 * the same sequence of creates). Figures are in unscaled (real-upstream) seconds.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startSimulator, type Simulator } from '../src/simulator';
import { pollWithFixedLoop } from './fixed-loop-poller';
import { graphql } from './graphql-client';
import { HostProcess, stopAll, type Started } from './processes';
import type { HostReady } from './server-host';
import { graphqlInput, modelMix, wireBody } from './inputs';
import { mean, quantile } from './stats';
import { within } from '../test/helpers/within';

export interface UpstreamEfficiencyOptions {
  /** Generations of each model per round. */
  perModel: number;
  /** Simulator and poller time scale (0.05: a 100 s job takes 5 s). */
  timeScale: number;
  /** Subscriber counts (in total), one round each, on the same generations; the delay round has one per generation. */
  subscriberCounts: readonly number[];
}

export interface PollerFigures {
  pollsPerGeneration: number;
  /** Completion to notice (ours: to a subscriber's receipt), unscaled seconds. */
  delayP50: number;
  delayP95: number;
}

export interface UpstreamEfficiencyResult {
  generations: number;
  ours: PollerFigures;
  fixedLoop: PollerFigures;
  /** Upstream polls per generation in each round. */
  pollsBySubscribers: { subscribers: number; pollsPerGeneration: number }[];
}

const KEY = 'bench-upstream-key';
const SEED = 'bench-upstream';
const CREATE = 'mutation Create($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id upstreamId } }';
const GET = 'query Get($id: ID!) { videoGeneration(id: $id) { completedAt } }';
const WATCH = 'subscription Watch($id: ID!) { videoGenerationUpdated(id: $id) { id status version } }';

/**
 * Every round's gateway, started side by side before anything is timed: the later ones idle (nothing
 * to poll) until their round, so no round waits for a start.
 */
export function startUpstreamGateways(o: UpstreamEfficiencyOptions): Promise<Started<HostReady>>[] {
  return [0, ...o.subscriberCounts].map(() => HostProcess.start<HostReady>('server-host', ['gateway', String(o.timeScale), SEED]));
}

/** `gateways`: from `startUpstreamGateways` when started ahead; else started here. */
export async function runUpstreamEfficiency(o: UpstreamEfficiencyOptions, gateways = startUpstreamGateways(o)): Promise<UpstreamEfficiencyResult> {
  const generations = modelMix(o.perModel).length;
  const rounds: { subscribers: number; pollsPerGeneration: number }[] = [];
  let fixedLoop: PollerFigures | undefined;
  let compared: { pollsPerGeneration: number; delays: number[] } | undefined;
  try {
    await Promise.all(gateways);
    // The comparison: one watcher per generation, beside the baseline (the gateway is in another
    // process and this one only holds a few watchers, so neither delays the other's timers).
    [fixedLoop, compared] = await Promise.all([fixedLoopRound(o), gatewayRound(o, generations, gateways[0]!)]);
    // Then the same seeded generations with more and more subscribers: only the polls matter there.
    for (const [i, subscribers] of o.subscriberCounts.entries()) {
      const { pollsPerGeneration } = await gatewayRound(o, subscribers, gateways[i + 1]!);
      rounds.push({ subscribers, pollsPerGeneration });
    }
  } finally {
    await stopAll(gateways);
  }
  if (!fixedLoop || !compared) throw new Error('the delay round did not run');
  return {
    generations,
    ours: {
      pollsPerGeneration: compared.pollsPerGeneration,
      delayP50: quantile(compared.delays, 0.5),
      delayP95: quantile(compared.delays, 0.95),
    },
    fixedLoop,
    pollsBySubscribers: rounds,
  };
}

/** Longest wait for a round, in wall ms: twice the slowest model's range end, plus set-up slack. */
function roundBudgetMs(o: UpstreamEfficiencyOptions): number {
  return 2 * 150_000 * o.timeScale + 30_000;
}

async function gatewayRound(
  o: UpstreamEfficiencyOptions,
  subscribers: number,
  started: Promise<Started<HostReady>>,
): Promise<{ pollsPerGeneration: number; delays: number[] }> {
  // The gateway (with its simulator) runs in its own process, so these subscribers do not slow it.
  const { host, first: gw } = await started;
  const control = (route: string) =>
    fetch(`${gw.simulatorUrl}/__control/${route}`, { headers: { authorization: `Bearer ${gw.simulatorKey}` } }).then((r) => r.json());
  const clients: Client[] = [];
  try {
    const created: { id: string; upstreamId: string }[] = [];
    const firstReceipt = new Map<string, number>();
    const finished: Promise<void>[] = [];
    const models = modelMix(o.perModel);
    const watch = (id: string) => {
      const client = createClient({
        url: gw.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${gw.key}` },
        retryAttempts: 0,
      });
      clients.push(client);
      finished.push(
        new Promise<void>((resolve, reject) => {
          client.subscribe<{ videoGenerationUpdated: { status: string } }>(
            { query: WATCH, variables: { id } },
            {
              next: (result) => {
                const status = result.data?.videoGenerationUpdated.status;
                // Date.now(), not preciseNow(): the simulator's completesAt comes from its own process's wall
                // clock (Date.now), and timeOrigin + performance.now() drifts from it, by enough to have once
                // made a completion-to-receipt p50 negative.
                if (status === 'COMPLETED' && !firstReceipt.has(id)) firstReceipt.set(id, Date.now());
              },
              error: reject,
              complete: resolve,
            },
          );
        }),
      );
    };
    // Subscriber s watches generation s mod N; each generation's watchers subscribe right after its
    // create, so their set-up is spread over the run instead of landing while the poller is busy.
    for (let i = 0; i < models.length; i++) {
      const data = await graphql<{ createVideoGeneration: { id: string; upstreamId: string } }>(gw.url, gw.key, CREATE, {
        input: graphqlInput(models[i]!),
      });
      created.push(data.createVideoGeneration);
      for (let s = i; s < subscribers; s += models.length) watch(data.createVideoGeneration.id);
    }
    await within(`${subscribers} subscribers to see every generation end`, Promise.all(finished), roundBudgetMs(o));
    // Everything not watched in this round must end too before polls are counted.
    const deadline = Date.now() + roundBudgetMs(o);
    for (const { id } of created) {
      for (;;) {
        const { videoGeneration } = await graphql<{ videoGeneration: { completedAt: string | null } }>(gw.url, gw.key, GET, { id });
        if (videoGeneration.completedAt) break;
        if (Date.now() > deadline) throw new Error(`generation ${id} did not end`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const counts = (await control('counts')) as { pollsById: Record<string, number> };
    const polls: number[] = [];
    const delays: number[] = [];
    for (const { id, upstreamId } of created) {
      polls.push(counts.pollsById[upstreamId] ?? 0);
      const receipt = firstReceipt.get(id);
      const { completesAt } = (await control(`jobs/${encodeURIComponent(upstreamId)}/completes-at`)) as { completesAt: string | null };
      if (receipt !== undefined && completesAt) delays.push((receipt - Date.parse(completesAt)) / o.timeScale / 1000);
    }
    return { pollsPerGeneration: mean(polls), delays };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await host.stop();
  }
}

async function fixedLoopRound(o: UpstreamEfficiencyOptions): Promise<PollerFigures> {
  const sim: Simulator = await startSimulator({ apiKey: KEY, port: 0, timeScale: o.timeScale, seed: SEED });
  try {
    const giveUpAt = Date.now() + roundBudgetMs(o);
    const runs: Promise<{ polls: number; delay: number }>[] = [];
    for (const model of modelMix(o.perModel)) {
      const res = await fetch(`${sim.url}/v2/video/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(wireBody(model)),
      });
      const createdAt = Date.now();
      const { id } = (await res.json()) as { id: string };
      const completesAt = sim.control.completesAt(id)!.getTime();
      runs.push(
        pollWithFixedLoop({ baseUrl: sim.url, apiKey: KEY, id, createdAt, timeScale: o.timeScale, giveUpAt }).then((r) => ({
          polls: r.polls,
          delay: (r.noticedAt - completesAt) / o.timeScale / 1000,
        })),
      );
    }
    const results = await Promise.all(runs);
    const delays = results.map((r) => r.delay);
    return {
      pollsPerGeneration: mean(results.map((r) => r.polls)),
      delayP50: quantile(delays, 0.5),
      delayP95: quantile(delays, 0.95),
    };
  } finally {
    await sim.stop();
  }
}
