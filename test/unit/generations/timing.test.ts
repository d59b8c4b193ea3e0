import { estimateProgress, IN_RANGE_INTERVAL_MS, PollSchedule, typicalTimeFor, type TimingOptions } from '../../../src/generations/timing';
import { seedWeights, TimeDistribution } from '../../../src/generations/time-distribution';
import { DEFAULT_TYPICAL_TIME } from '../../../src/upstream/catalogue-overlay';
import { GenerationStatus } from '../../../src/model/generation';
import { findModel, MODELS } from '../../../src/upstream/models';

const DEFAULTS: TimingOptions = { timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 30_000 };
const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const veo3 = { model: 'google/veo3' };

/** Gap in ms from `elapsed` to the next poll. */
function gapAt(schedule: PollSchedule, input: { model: string }, elapsedMs: number): number {
  return schedule.nextPollAt(input, T0, at(elapsedMs)).getTime() - T0.getTime() - elapsedMs;
}

/** Polls made until the first one at or after `completesAtMs`, and how late that one is. */
function simulate(next: (elapsedMs: number) => number, completesAtMs: number): { polls: number; noticeDelayMs: number } {
  let t = 0;
  let polls = 0;
  for (;;) {
    t = next(t);
    polls++;
    if (t >= completesAtMs) return { polls, noticeDelayMs: t - completesAtMs };
    if (polls > 10_000) throw new Error('runaway schedule');
  }
}

const p95 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(0.95 * (xs.length - 1))]!;

describe('PollSchedule.nextPollAt (from the catalogue seed)', () => {
  const schedule = new PollSchedule(DEFAULTS);

  it('expects the model typical time, scaled', () => {
    const typical = findModel('google/veo3')!.typical;
    expect(schedule.expectedMs(typical)).toBe(120_000);
    expect(new PollSchedule({ ...DEFAULTS, timeScale: 0.01 }).expectedMs(typical)).toBeCloseTo(1_200);
  });

  it('polls sparsely before completions are likely and densely (within the notice target) where they are', () => {
    const d = schedule.timingFor(veo3).distribution;
    const plan = Array.from(schedule.planFor(d));
    const [low, high] = typicalTimeFor(veo3).rangeSeconds;
    const before = plan.filter((t) => t < low * 0.75);
    const inside = plan.filter((t) => t >= low && t <= high);
    // Before the seed's first mass only the maximum interval forces looks.
    expect(before.length).toBeLessThanOrEqual(Math.ceil((low * 0.75) / 30));
    for (let i = 1; i < plan.length; i++) {
      if (plan[i - 1]! >= low && plan[i]! <= high) expect(plan[i]! - plan[i - 1]!).toBeLessThanOrEqual(IN_RANGE_INTERVAL_MS / 1000 + 1e-9);
    }
    expect(inside.length).toBeGreaterThan((high - low) / 5);
  });

  it("given the time elapsed, the next poll is the plan's next time: a late poll skips the ones it missed", () => {
    const plan = Array.from(schedule.planFor(schedule.timingFor(veo3).distribution));
    const k = plan.findIndex((t) => t > 100);
    expect(schedule.nextPollAt(veo3, T0, at(plan[k - 1]! * 1000)).getTime() - T0.getTime()).toBeCloseTo(plan[k]! * 1000, -1); // Dates hold whole ms
    const late = (plan[k]! + 0.5) * 1000;
    expect(schedule.nextPollAt(veo3, T0, at(late)).getTime() - T0.getTime()).toBeCloseTo(Math.max(plan[k + 1]! * 1000, late + 2_000), -1);
  });

  it('with planInBackground, answers from the catalogue range without planning on the call, then from the plan built after that turn', async () => {
    const background = new PollSchedule({ ...DEFAULTS, planInBackground: true });
    const distribution = background.timingFor(veo3).distribution;
    const planning = jest.spyOn(background, 'planFor');
    const [low] = typicalTimeFor(veo3).rangeSeconds;
    // A create asks for its first poll: no plan is built while it waits; the catalogue's first look, halfway to
    // the range (at most the maximum interval away).
    const firstLookMs = Math.min(low / 2, DEFAULTS.maxIntervalMs / 1000) * 1000;
    expect(background.nextPollAt(veo3, T0, T0).getTime() - T0.getTime()).toBeCloseTo(firstLookMs, -1);
    expect(background.nextPollAt(veo3, at(1_000), at(1_000)).getTime() - T0.getTime()).toBeCloseTo(1_000 + firstLookMs, -1);
    expect(planning).not.toHaveBeenCalled();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(planning).toHaveBeenCalledTimes(1); // asked twice, planned once
    const plan = new PollSchedule(DEFAULTS).planFor(distribution);
    expect(background.nextPollAt(veo3, T0, T0).getTime() - T0.getTime()).toBeCloseTo(plan[0]! * 1000, -1);
  });

  it('looks once on the eve of a deadline that comes before the next poll', () => {
    const deadline = at(60_000);
    const first = schedule.nextPollAt(veo3, T0, at(50_000), deadline).getTime() - T0.getTime();
    expect(first).toBe(58_000); // 60 s deadline − 2 s minimum gap
    const after = schedule.nextPollAt(veo3, T0, at(58_000), deadline).getTime() - T0.getTime();
    expect(after).toBeGreaterThan(60_000); // on or past the eve: the schedule again (the poller then times it out)
  });

  it('backs off once overdue, growing with the overrun, up to the maximum', () => {
    const gaps = [400_000, 500_000, 700_000, 1_000_000].map((e) => gapAt(schedule, veo3, e));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(gaps[1]).toBeGreaterThan(4_500);
    expect(gaps.at(-1)).toBe(30_000);
  });

  it.each([[1], [0.01], [0.5], [3]])('always stays within [min, max] × timeScale (timeScale %p), for every model', (timeScale) => {
    const s = new PollSchedule({ ...DEFAULTS, timeScale });
    const min = DEFAULTS.minIntervalMs * timeScale;
    const max = DEFAULTS.maxIntervalMs * timeScale;
    // Every tenth model (planning each takes a moment under Jest) and the conservative default.
    for (const { id, typical } of [...MODELS.filter((_, i) => i % 10 === 0), { id: 'vendor/withdrawn', typical: DEFAULT_TYPICAL_TIME }]) {
      const expected = typical.seconds * 1000 * timeScale;
      for (let f = -0.1; f <= 5; f += 0.05) {
        const gap = gapAt(s, { model: id }, Math.round(f * expected));
        expect(gap).toBeGreaterThanOrEqual(min - 1e-6);
        expect(gap).toBeLessThanOrEqual(max + 1e-6);
      }
    }
  });

  it('a tight maximum interval wins over the schedule; a loose minimum too', () => {
    const tight = new PollSchedule({ timeScale: 1, minIntervalMs: 10, maxIntervalMs: 1_000 });
    // The plan lies on a time grid, so its gaps come just under the maximum.
    expect(gapAt(tight, veo3, 0)).toBeLessThanOrEqual(1_000);
    expect(gapAt(tight, veo3, 0)).toBeGreaterThan(500);
    const slow = new PollSchedule({ timeScale: 1, minIntervalMs: 20_000, maxIntervalMs: 30_000 });
    expect(gapAt(slow, veo3, 100_000)).toBeGreaterThanOrEqual(20_000);
  });

  it('over every model with a stated time, with completions spread across each typical range, halves the p95 notice delay of a fixed 10 s loop with fewer polls', () => {
    const s = new PollSchedule({ ...DEFAULTS, maxIntervalMs: 60_000 });
    const adaptive = { polls: 0, delays: [] as number[] };
    const fixed = { polls: 0, delays: [] as number[] };
    for (const { id, typical } of MODELS.filter((m) => m.typical !== DEFAULT_TYPICAL_TIME)) {
      const [lo, hi] = typical.rangeSeconds;
      for (let ms = lo * 1000; ms <= hi * 1000; ms += 500) {
        const a = simulate((t) => gapAt(s, { model: id }, t) + t, ms);
        const f = simulate((t) => t + 10_000, ms);
        adaptive.polls += a.polls;
        adaptive.delays.push(a.noticeDelayMs);
        fixed.polls += f.polls;
        fixed.delays.push(f.noticeDelayMs);
      }
    }
    expect(p95(adaptive.delays)).toBeLessThanOrEqual(p95(fixed.delays) / 2);
    expect(adaptive.polls / fixed.polls).toBeLessThan(1);
  });
});

describe('typicalTimeFor', () => {
  it("uses the vendor's stated time at the duration it was stated for", () => {
    expect(typicalTimeFor({ model: 'google/veo3' })).toEqual(findModel('google/veo3')!.typical);
    expect(typicalTimeFor({ model: 'minimax/hailuo-02', durationSeconds: 6 }).seconds).toBe(270);
  });

  it('grows with duration and resolution (hailuo-02: 4–5 min for 6 s, 8–9 min for 10 s)', () => {
    const ten = typicalTimeFor({ model: 'minimax/hailuo-02', durationSeconds: 10 });
    expect(ten.seconds).toBeGreaterThan(270);
    expect(ten.seconds).toBeGreaterThanOrEqual(380);
    expect(ten.rangeSeconds[1]).toBeGreaterThan(300);
    const hd = typicalTimeFor({ model: 'pixverse/v5/text-to-video', resolution: '1080p' });
    expect(hd.seconds).toBeGreaterThan(typicalTimeFor({ model: 'pixverse/v5/text-to-video', resolution: '720p' }).seconds);
    expect(typicalTimeFor({ model: 'google/veo3', durationSeconds: 4 }).seconds).toBeLessThan(120);
  });

  it('falls back to the documented default for models without a stated time, and for unknown (withdrawn) ids', () => {
    expect(typicalTimeFor({ model: 'luma/ray-2' })).toEqual(DEFAULT_TYPICAL_TIME);
    expect(typicalTimeFor({ model: 'vendor/withdrawn-model' })).toEqual(DEFAULT_TYPICAL_TIME);
  });
});

describe('PollSchedule.retryAt', () => {
  const schedule = new PollSchedule(DEFAULTS);
  const retryGap = (failures: number, random: () => number, s = schedule) => s.retryAt(failures, T0, random).getTime() - T0.getTime();

  it('grows with consecutive failures (same jitter draw) until the maximum', () => {
    const gaps = [1, 2, 3, 4, 5, 6, 10, 50].map((f) => retryGap(f, () => 1));
    expect(gaps.slice(0, 4)).toEqual([4_000, 8_000, 16_000, 30_000]);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(gaps.at(-1)).toBe(30_000);
  });

  it('jitters between the minimum and the exponential ceiling', () => {
    expect(retryGap(3, () => 0)).toBe(2_000);
    expect(retryGap(3, () => 0.5)).toBe(2_000 + 0.5 * (16_000 - 2_000));
    expect(retryGap(3, () => 0.999_999)).toBeLessThanOrEqual(16_000);
    const draws = new Set(Array.from({ length: 20 }, (_, i) => retryGap(4, () => i / 20)));
    expect(draws.size).toBe(20);
  });

  it('stays within [min, max] × timeScale for any failure count and draw', () => {
    for (const timeScale of [1, 0.01]) {
      const s = new PollSchedule({ ...DEFAULTS, timeScale });
      for (let f = 0; f <= 40; f++) {
        for (const r of [0, 0.25, 0.5, 0.75, 0.999_999]) {
          const gap = retryGap(f, () => r, s);
          expect(gap).toBeGreaterThanOrEqual(DEFAULTS.minIntervalMs * timeScale - 1e-6);
          expect(gap).toBeLessThanOrEqual(DEFAULTS.maxIntervalMs * timeScale + 1e-6);
        }
      }
    }
  });

  it('uses Math.random by default', () => {
    const gap = schedule.retryAt(5, T0).getTime() - T0.getTime();
    expect(gap).toBeGreaterThanOrEqual(2_000);
    expect(gap).toBeLessThanOrEqual(30_000);
  });
});

describe('estimateProgress', () => {
  const seed = new TimeDistribution(seedWeights({ seconds: 120, rangeSeconds: [100, 140], forDurationSeconds: 8 }));

  it('climbs with the time elapsed and never reaches 1 while pending', () => {
    let previous = -1;
    for (let e = 0; e <= 1_000_000; e += 5_000) {
      const { progress } = estimateProgress(GenerationStatus.GENERATING, T0, seed, at(e));
      expect(progress!).toBeGreaterThanOrEqual(previous);
      expect(progress!).toBeLessThan(1);
      previous = progress!;
    }
  });

  it('gives the ETA as the conditional median with a 10–90 % range that holds it, shrinking as the job goes on', () => {
    const early = estimateProgress(GenerationStatus.GENERATING, T0, seed, at(10_000));
    expect(early.etaLowSeconds!).toBeLessThanOrEqual(early.etaSeconds!);
    expect(early.etaHighSeconds!).toBeGreaterThanOrEqual(early.etaSeconds!);
    expect(early.etaSeconds!).toBeGreaterThan(100);
    expect(early.etaSeconds!).toBeLessThan(120);
    // A job finishing inside the stated range has its time left inside the ETA's range.
    for (const total of [105, 120, 135]) {
      expect(total - 10).toBeGreaterThanOrEqual(early.etaLowSeconds!);
      expect(total - 10).toBeLessThanOrEqual(early.etaHighSeconds!);
    }
    const late = estimateProgress(GenerationStatus.GENERATING, T0, seed, at(120_000));
    // Past the median the ETA is not negative: it is what the jobs still running have left.
    expect(late.etaSeconds!).toBeGreaterThan(0);
    expect(late.estimatedCompletionAt!.getTime()).toBeGreaterThan(at(120_000).getTime());
  });

  it('is scaled by the time scale, and carries the sample count', () => {
    const scaled = estimateProgress(GenerationStatus.GENERATING, T0, seed, at(100), 0.01, 7);
    const unscaled = estimateProgress(GenerationStatus.GENERATING, T0, seed, at(10_000));
    expect(scaled.progress).toBeCloseTo(unscaled.progress!, 6);
    expect(scaled.sampleCount).toBe(7);
  });

  it('is overdue (no ETA) once past nearly every completion, creeping towards 0.99', () => {
    const overdue = estimateProgress(GenerationStatus.GENERATING, T0, seed, at(600_000));
    expect(overdue).toMatchObject({ etaSeconds: null, etaLowSeconds: null, etaHighSeconds: null, estimatedCompletionAt: null });
    expect(overdue.progress!).toBeGreaterThan(0.95);
    expect(overdue.progress!).toBeLessThan(0.99);
  });

  it('is 1 with no time left once completed; none once ended without a video', () => {
    expect(estimateProgress(GenerationStatus.COMPLETED, T0, seed, at(10))).toMatchObject({
      progress: 1,
      etaSeconds: 0,
      etaLowSeconds: 0,
      etaHighSeconds: 0,
    });
    for (const status of [GenerationStatus.FAILED, GenerationStatus.CANCELLED, GenerationStatus.TIMED_OUT]) {
      expect(estimateProgress(status, T0, seed, at(10_000))).toMatchObject({
        progress: null,
        etaSeconds: null,
        etaLowSeconds: null,
        estimatedCompletionAt: null,
      });
    }
  });

  it('reports no samples once ended, whatever the learner knows by then', () => {
    const before = estimateProgress(GenerationStatus.COMPLETED, T0, seed, at(10), 1, 0, false);
    const after = estimateProgress(GenerationStatus.COMPLETED, T0, seed, at(10), 1, 12, true);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ sampleCount: 0, fromCatalogue: false });
    for (const status of [GenerationStatus.FAILED, GenerationStatus.CANCELLED, GenerationStatus.TIMED_OUT]) {
      expect(estimateProgress(status, T0, seed, at(10), 1, 12, true)).toMatchObject({ sampleCount: 0, fromCatalogue: false });
    }
    // In flight it does carry them.
    expect(estimateProgress(GenerationStatus.GENERATING, T0, seed, at(10), 1, 12, true)).toMatchObject({ sampleCount: 12, fromCatalogue: false });
  });
});
