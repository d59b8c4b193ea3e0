import { CREATE, gqlData, useGateway, waitFor } from '../helpers/gateway';

/**
 * A client sees the ETA with its range and how sure it is, and that range learns from the gateway's
 * own finished generations. Time scale 0.05: a Veo 2 job (40–50 s) takes about 2 s.
 */
const TIME_SCALE = 0.05;
const ESTIMATE = `query Estimate($id: ID!) {
  videoGeneration(id: $id) { id status progress etaSeconds etaLowSeconds etaHighSeconds etaSampleCount etaFromCatalogue estimatedCompletionAt }
}`;

describe('videoGeneration shows the estimate range', () => {
  // One finished generation is enough to count as learned here (TIMING_MIN_SAMPLES, default 10).
  const gw = useGateway({ timeScale: TIME_SCALE, env: { TIMING_MIN_SAMPLES: '1' } }, 120_000);

  it('while in flight: low ≤ ETA ≤ high from the catalogue (no samples), then from finished generations', async () => {
    const key = await gw.keyFor('eta-owner');
    const create = async (prompt: string) =>
      (await gqlData(gw, key, CREATE, { input: { model: 'google/veo3', prompt } })).createVideoGeneration.id as string;
    const estimate = async (id: string) => (await gqlData(gw, key, ESTIMATE, { id })).videoGeneration;

    const first = await estimate(await create('a first clip'));
    expect(first.status).toMatch(/QUEUED|GENERATING/);
    expect(first.etaSampleCount).toBe(0);
    expect(first.etaFromCatalogue).toBe(true);
    expect(first.etaLowSeconds).toBeLessThanOrEqual(first.etaSeconds);
    expect(first.etaHighSeconds).toBeGreaterThanOrEqual(first.etaSeconds);
    // Veo 3 takes about 2 minutes: 6 s at this time scale, with a range around it.
    expect(first.etaHighSeconds).toBeGreaterThan(first.etaLowSeconds);
    expect(first.etaHighSeconds).toBeLessThan(30);

    // Once some finish, the next one's estimate has learned from them.
    await waitFor('the first clip to complete', async () => (await estimate(first.id)).status === 'COMPLETED', 60_000, 100);
    const done = await estimate(first.id);
    expect(done).toMatchObject({ progress: 1, etaSeconds: 0, etaLowSeconds: 0, etaHighSeconds: 0, etaSampleCount: 0, etaFromCatalogue: false });
    const next = await waitFor(
      'an estimate learned from the finished generation',
      async () => {
        const e = await estimate(await create('a later clip'));
        return e.etaSampleCount > 0 ? e : null;
      },
      30_000,
      500,
    );
    expect(next.etaFromCatalogue).toBe(false);
    expect(next.etaLowSeconds).toBeLessThanOrEqual(next.etaSeconds);
    expect(next.etaHighSeconds).toBeGreaterThanOrEqual(next.etaSeconds);
  }, 120_000);
});
