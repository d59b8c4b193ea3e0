import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TimingLearner } from '../../../src/generations/timing-learner';
import { addSample, emptyWeights } from '../../../src/generations/time-distribution';
import { createPgStore } from '../../../src/store/pg-store';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import { missingServices, startPostgres, type PostgresServer } from '../../helpers/services';

/**
 * Learned generation times live in the store (0013_generation_timings), so every instance shares
 * them and a restart keeps them: what one instance's learner records, another's reads.
 */
const T0 = new Date('2025-01-01T00:00:00.000Z');
const veo3 = { model: 'google/veo3' };
const LEARNING = { minSamples: 10, halfLifeSamples: 20 };

describe('learned timings in the embedded store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timings-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are used at once by the instance that records them, and survive a restart: a new store on the same folder starts from them', async () => {
    const first = createPgliteStore({ dataDir: dir });
    await first.start();
    try {
      const learner = new TimingLearner({ ...LEARNING, store: first });
      await learner.start();
      for (let i = 0; i < 30; i++) await learner.record(veo3, 300 + i, T0);
      // Alone on its store, the instance uses its own samples at once, without re-reading the store.
      expect(learner.timingFor(veo3).samples).toBeGreaterThan(15);
      learner.stop();
    } finally {
      await first.stop();
    }
    const second = createPgliteStore({ dataDir: dir });
    await second.start();
    try {
      const learner = new TimingLearner({ ...LEARNING, store: second });
      await learner.start();
      const { distribution, samples } = learner.timingFor(veo3);
      learner.stop();
      expect(samples).toBeGreaterThan(15);
      expect(distribution.quantile(0.5)).toBeGreaterThan(290);
      expect(distribution.quantile(0.5)).toBeLessThan(340);
    } finally {
      await second.stop();
    }
  }, 180_000); // two cold starts of a PGlite folder on a loaded machine
});

const missing = missingServices();
(missing ? describe.skip : describe)('learned timings on PostgreSQL, two instances', () => {
  let server: PostgresServer;
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    server = await startPostgres();
    a = createPgStore({ connectionString: server.url });
    b = createPgStore({ connectionString: server.url });
    await a.start();
    await b.start();
  }, 180_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await server?.destroy();
  });

  it('count every sample both record at once, with the same decay as in memory, and each reads the shared result', async () => {
    const learnerA = new TimingLearner({ ...LEARNING, store: a, shared: true });
    const learnerB = new TimingLearner({ ...LEARNING, store: b, shared: true });
    const times = Array.from({ length: 40 }, (_, i) => 200 + i);
    await Promise.all([...times.map((t) => learnerA.record(veo3, t, T0)), ...times.map((t) => learnerB.record(veo3, t + 40, T0))]);
    const [row] = await b.listGenerationTimings();
    expect(row!.samples).toBe(80);
    // Order differs between runs, but the effective count of 80 decayed samples does not.
    const expected = emptyWeights();
    for (let i = 0; i < 80; i++) addSample(expected, 250, 0.5 ** (1 / LEARNING.halfLifeSamples));
    const sum = (w: readonly number[]) => w.reduce((x, y) => x + y, 0);
    expect(sum(row!.weights)).toBeCloseTo(sum(expected), 6);
    await learnerA.refresh();
    await learnerB.refresh();
    expect(learnerA.timingFor(veo3).samples).toBeCloseTo(learnerB.timingFor(veo3).samples, 9);
    expect(learnerB.timingFor(veo3).distribution.quantile(0.5)).toBeGreaterThan(200);
    expect(learnerB.timingFor(veo3).distribution.quantile(0.5)).toBeLessThan(290);
  }, 60_000);
});
