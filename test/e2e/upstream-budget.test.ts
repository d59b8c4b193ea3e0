/**
 * A restart with hundreds of generations due: the new gateway's polls, counted at the simulator, ramp
 * up from an empty budget and never outrun it (issue 13).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator';
import { CREATE, gqlData, SIMULATOR_KEY, sleep, startGateway, type TestGateway } from '../helpers/gateway';

const IN_FLIGHT = 300;
const RATE = 20;
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

    const before = simulator.control.counts().poll;
    const origin = Date.now(); // before the second gateway (and its bucket) exists: a conservative origin
    const second = await startGateway({
      dataDir,
      simulator,
      timeScale: 0.01,
      env: { ...env, UPSTREAM_REQUESTS_PER_SECOND: String(RATE), UPSTREAM_REQUEST_BURST: String(BURST) },
    });
    gateways.push(second);
    const samples: Array<{ at: number; polls: number }> = [];
    // Bounded: 60 samples, 50 ms apart.
    for (let i = 0; i < 60; i++) {
      samples.push({ at: Date.now(), polls: simulator.control.counts().poll - before });
      await sleep(50);
    }
    await second.stop({ keepSimulator: true });

    for (const s of samples) {
      // From an empty bucket: never more than RATE per second since the origin (+1 for rounding).
      expect(s.polls).toBeLessThanOrEqual(Math.floor((RATE * (s.at - origin)) / 1000) + 1);
    }
    for (const a of samples) {
      for (const b of samples) {
        // Any stretch of at least a second: at most BURST + RATE × seconds (+1: a sample can see a poll
        // counted a moment after its neighbour).
        if (b.at - a.at >= 1_000) expect(b.polls - a.polls).toBeLessThanOrEqual(BURST + Math.ceil((RATE * (b.at - a.at)) / 1000) + 1);
      }
    }
    // And it does poll: the backlog drains at the budget, not at zero.
    expect(samples.at(-1)!.polls).toBeGreaterThanOrEqual(5);
  }, 300_000);
});
