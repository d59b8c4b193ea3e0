/**
 * A restart with hundreds of generations due: the new gateway's polls, counted at the simulator, ramp
 * up from an empty budget and never outrun it (issue 13). And an upstream that answers every poll with a
 * 5xx: the client's retries count against the same budget as the polls and creates they retry.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator';
import { CREATE, gqlData, SIMULATOR_KEY, sleep, startGateway, type TestGateway } from '../helpers/gateway';

interface Sample {
  at: number;
  requests: number;
}

/**
 * Checks what reached the simulator against a bucket of `rate`/s and `burst` that started empty at `origin`:
 * - never more than rate × time since then (+1: a sample can see a request counted a moment after its
 *   neighbour): a delay only makes a request arrive later, so this holds however loaded the machine;
 * - at most burst + rate within any 1,000 ms, counted exactly by the simulator as requests arrived
 *   (`mostInAnySecond`), plus `allowance`. Polls and creates spend their tokens right before they are sent
 *   (a rebook), so a test of polls allows nothing.
 */
function expectWithinBudget(samples: Sample[], mostInAnySecond: number, origin: number, rate: number, burst: number, allowance = 0): void {
  for (const s of samples) expect(s.requests).toBeLessThanOrEqual(Math.floor((rate * (s.at - origin)) / 1000) + 1);
  expect(mostInAnySecond).toBeLessThanOrEqual(rate + burst + allowance);
}

/**
 * A poll retry rebooks its token when its backoff timer fires, right before it is sent (README, "What is
 * guaranteed"). But here the gateway and the simulator share this one process, so a stall delays the
 * simulator's stamping too and bunches arrivals that left apart. Runs at load 9-10 (before retries were
 * rebooked) saw 8-10 in a second against 7: one second of rate.
 */
const RETRY_TIMER_ALLOWANCE_S = 1;

/** The sum of one metric family's samples whose labels include `having` (e.g. `endpoint="poll"`). */
async function metricSum(gw: TestGateway, name: string, having = ''): Promise<number> {
  const text = await (await fetch(gw.app.url.replace(/\/graphql$/, '/metrics'))).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) if (m[1]!.includes(having)) sum += Number(m[2]);
  return sum;
}

const IN_FLIGHT = 300;
const RATE = 5;
const BURST = 5;

describe('a restart with many generations due, under the upstream request budget', () => {
  let simulator: Simulator;
  let dataDir: string;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    // Jobs take minutes at time scale 1, while the gateway (UPSTREAM_TIME_SCALE 0.01) expects them within
    // a second or two: every generation is due again every few tens of ms, far more than the budget.
    simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale: 1, seed: 1 });
    dataDir = await mkdtemp(path.join(tmpdir(), 'veo-gateway-budget-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.stop({ keepSimulator: true })));
    await simulator?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  it(`ramps up from empty and never sends more than ${BURST} + ${RATE}/s polls, with ${IN_FLIGHT} due at once`, async () => {
    const env = { GENERATION_DEADLINE_SECONDS: '86400' };
    const first = await startGateway({ dataDir, simulator, timeScale: 0.01, env });
    gateways.push(first);
    const key = await first.keyFor('alice');
    for (let batch = 0; batch < IN_FLIGHT / 20; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => gqlData(first, key, CREATE, { input: { model: 'google/veo3', prompt: `due ${batch}-${i}` } })),
      );
    }
    await first.stop({ keepSimulator: true });

    simulator.control.resetCounts();
    const origin = Date.now(); // before the second gateway (and its bucket) exists: a conservative origin
    const second = await startGateway({
      dataDir,
      simulator,
      timeScale: 0.01,
      env: { ...env, UPSTREAM_REQUESTS_PER_SECOND: String(RATE), UPSTREAM_REQUEST_BURST: String(BURST) },
    });
    gateways.push(second);
    const samples: Sample[] = [];
    // Bounded: 120 samples, 50 ms apart (6 s or more).
    for (let i = 0; i < 120; i++) {
      samples.push({ at: Date.now(), requests: simulator.control.counts().poll });
      await sleep(50);
    }
    await second.stop({ keepSimulator: true });

    const counts = simulator.control.counts();
    expectWithinBudget(samples, counts.mostInAnySecond, origin, RATE, BURST);
    // And it does poll: the backlog drains at the budget, not at zero.
    expect(samples.at(-1)!.requests).toBeGreaterThanOrEqual(5);
  }, 300_000);

  it('counts every retry of a failing poll against the budget, with creates in the same bucket', async () => {
    // Few enough that a poll and its two retries (1 + 2 requests) clearly outrun the budget if retries were free.
    const rate = 5;
    const burst = 2;
    const concurrency = 2;
    simulator.control.resetCounts();
    // Every poll answers 500: each one the poller sends is retried by the client (pollRetries: 2).
    simulator.control.injectFault({ endpoint: 'poll', times: Infinity, action: { kind: 'status', status: 500 } });
    try {
      const origin = Date.now(); // before the gateway (and its empty bucket) exists
      const gw = await startGateway({
        simulator,
        timeScale: 0.01,
        env: {
          GENERATION_DEADLINE_SECONDS: '86400',
          UPSTREAM_REQUESTS_PER_SECOND: String(rate),
          UPSTREAM_REQUEST_BURST: String(burst),
          UPSTREAM_BUDGET_CREATE_WAIT_MS: '30000',
          POLL_CONCURRENCY: String(concurrency),
        },
      });
      gateways.push(gw);
      const key = await gw.keyFor('bob');
      const requests = () => simulator.control.counts().poll + simulator.control.counts().create;
      const samples: Sample[] = [{ at: Date.now(), requests: requests() }];
      // Creates book their tokens ahead of the poller's and wait for them; all of them are sent.
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => gqlData(gw, key, CREATE, { input: { model: 'google/veo3', prompt: `failing polls ${i}` } })),
      );
      // Bounded: 100 samples, 50 ms apart.
      for (let i = 0; i < 100; i++) {
        samples.push({ at: Date.now(), requests: requests() });
        await sleep(50);
      }
      const sentPolls = await metricSum(gw, 'gateway_upstream_requests_total', 'endpoint="poll"');
      const pollsDone = await metricSum(gw, 'gateway_polls_total');
      await gw.stop({ keepSimulator: true });

      const counts = simulator.control.counts();
      expect(counts.create).toBe(6);
      expectWithinBudget(samples, counts.mostInAnySecond, origin, rate, burst, rate * RETRY_TIMER_ALLOWANCE_S);
      // The polls did go on, under the budget.
      expect(samples.at(-1)!.requests - 6).toBeGreaterThanOrEqual(5);
      // And retries were sent: more poll requests than polls, beyond the `concurrency` polls still under way.
      expect(sentPolls).toBeGreaterThan(pollsDone + concurrency);
    } finally {
      simulator.control.clearFaults();
    }
  }, 300_000);
});
