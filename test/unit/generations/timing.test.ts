import { estimateProgress, IN_RANGE_INTERVAL_MS, PollSchedule, typicalTimeFor, type TimingOptions } from '../../../src/generations/timing';
import { DEFAULT_TYPICAL_TIME } from '../../../src/upstream/catalogue-overlay';
import { GenerationStatus } from '../../../src/model/generation';
import { findModel, MODELS, type TypicalTime } from '../../../src/upstream/models';

const DEFAULTS: TimingOptions = { timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 30_000 };
const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const veo3 = findModel('google/veo3')!.typical;

/** Gap in ms from `elapsed` to the next poll. */
function gapAt(schedule: PollSchedule, model: TypicalTime, elapsedMs: number): number {
  return schedule.nextPollAt(model, T0, at(elapsedMs)).getTime() - T0.getTime() - elapsedMs;
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

describe('PollSchedule.nextPollAt', () => {
  const schedule = new PollSchedule(DEFAULTS);

  it('expects the model typical time, scaled', () => {
    expect(schedule.expectedMs(veo3)).toBe(120_000);
    expect(new PollSchedule({ ...DEFAULTS, timeScale: 0.01 }).expectedMs(veo3)).toBeCloseTo(1_200);
  });

  it('looks once halfway to the typical range (veo3: 100 s → 50 s), then sleeps until half an interval into it', () => {
    expect(gapAt(schedule, veo3, 0)).toBe(30_000); // 50 s wanted, capped
    expect(gapAt(schedule, veo3, 30_000)).toBeCloseTo(20_000, 3); // lands at 50 s
    expect(gapAt(schedule, veo3, 50_000)).toBe(30_000); // 102.25 s wanted, capped
    const loose = new PollSchedule({ ...DEFAULTS, maxIntervalMs: 120_000 });
    expect(gapAt(loose, veo3, 0)).toBe(50_000);
    expect(gapAt(loose, veo3, 50_000)).toBe(52_250);
    for (let e = 50_000; e < 100_000; e += 1_000) {
      expect(gapAt(schedule, veo3, e)).toBeGreaterThanOrEqual(Math.min(30_000, 102_250 - e) - 1e-6);
    }
  });

  it('is dense inside the typical range (veo3: 100–150 s): every IN_RANGE_INTERVAL_MS', () => {
    expect(IN_RANGE_INTERVAL_MS).toBe(4_500);
    for (let e = 100_000; e < 150_000; e += 3_000) expect(gapAt(schedule, veo3, e)).toBeCloseTo(4_500, 3);
  });

  it('looks once on the eve of a deadline that comes before the next poll, then follows the schedule', () => {
    const deadline = at(60_000);
    const first = schedule.nextPollAt(veo3, T0, at(0), deadline).getTime() - T0.getTime();
    expect(first).toBe(30_000); // the schedule's own time is before the eve
    const eve = schedule.nextPollAt(veo3, T0, at(30_000), deadline).getTime() - T0.getTime();
    expect(eve).toBe(50_000); // the schedule's own look (50 s) is before the eve: kept
    const late = schedule.nextPollAt(veo3, T0, at(50_000), deadline).getTime() - T0.getTime();
    expect(late).toBe(58_000); // 60 s deadline − 2 s minimum gap, instead of 80 s
    const after = schedule.nextPollAt(veo3, T0, at(58_000), deadline).getTime() - T0.getTime();
    expect(after).toBe(88_000); // on or past the eve: the schedule again (the poller then times it out)
    expect(schedule.nextPollAt(veo3, T0, at(90_000), at(900_000)).getTime() - T0.getTime()).toBe(102_250);
  });

  it('backs off after the range, growing with the overrun, up to the maximum', () => {
    const gaps = [150_000, 200_000, 300_000, 500_000, 1_000_000].map((e) => gapAt(schedule, veo3, e));
    expect(gaps[0]).toBeCloseTo(4_500, 3);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(gaps[1]).toBeGreaterThan(4_500);
    expect(gaps.at(-1)).toBe(30_000);
  });

  it.each([[1], [0.01], [0.5], [3]])('always stays within [min, max] × timeScale (timeScale %p), for every model', (timeScale) => {
    const s = new PollSchedule({ ...DEFAULTS, timeScale });
    const min = DEFAULTS.minIntervalMs * timeScale;
    const max = DEFAULTS.maxIntervalMs * timeScale;
    for (const { typical: model } of MODELS) {
      const expected = s.expectedMs(model);
      for (let f = -0.1; f <= 5; f += 0.01) {
        const gap = gapAt(s, model, Math.round(f * expected));
        expect(gap).toBeGreaterThanOrEqual(min - 1e-6);
        expect(gap).toBeLessThanOrEqual(max + 1e-6);
      }
    }
  });

  it('a tight maximum interval wins over the schedule; a loose minimum too', () => {
    const tight = new PollSchedule({ timeScale: 1, minIntervalMs: 10, maxIntervalMs: 1_000 });
    expect(gapAt(tight, veo3, 0)).toBe(1_000);
    const slow = new PollSchedule({ timeScale: 1, minIntervalMs: 20_000, maxIntervalMs: 30_000 });
    expect(gapAt(slow, veo3, 100_000)).toBe(20_000);
  });

  it('for a Veo 3 job finishing near its typical time, makes fewer polls than a fixed 10 s loop and notices sooner', () => {
    const adaptive = simulate((t) => gapAt(schedule, veo3, t) + t, 115_000);
    const fixed = simulate((t) => t + 10_000, 115_000);
    expect(fixed).toEqual({ polls: 12, noticeDelayMs: 5_000 });
    expect(adaptive.polls).toBeLessThan(fixed.polls);
    expect(adaptive.noticeDelayMs).toBeLessThanOrEqual(fixed.noticeDelayMs);
  });

  it('over every model with a stated time, with completions spread evenly across each typical range, halves the p95 notice delay of a fixed 10 s loop with fewer polls', () => {
    // POLL_MAX_INTERVAL_MS's default (60 s); the benchmark measures the same through a real gateway.
    const s = new PollSchedule({ ...DEFAULTS, maxIntervalMs: 60_000 });
    const adaptive = { polls: 0, delays: [] as number[] };
    const fixed = { polls: 0, delays: [] as number[] };
    for (const { typical: model } of MODELS.filter((m) => m.typical !== DEFAULT_TYPICAL_TIME)) {
      const [lo, hi] = model.rangeSeconds;
      for (let ms = lo * 1000; ms <= hi * 1000; ms += 250) {
        const a = simulate((t) => gapAt(s, model, t) + t, ms);
        const f = simulate((t) => t + 10_000, ms);
        adaptive.polls += a.polls;
        adaptive.delays.push(a.noticeDelayMs);
        fixed.polls += f.polls;
        fixed.delays.push(f.noticeDelayMs);
      }
    }
    const p95 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(0.95 * (xs.length - 1))]!;
    expect(p95(adaptive.delays)).toBeLessThanOrEqual(p95(fixed.delays) / 2);
    // Not half the polls: see BENCHMARKS.md for why both halves at once are out of reach for wide ranges.
    expect(adaptive.polls / fixed.polls).toBeLessThan(0.95);
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

describe('PollSchedule for a model 10× slower than its guess', () => {
  it('polls a bounded number of times, never faster than the minimum nor slower than the maximum', () => {
    const s = new PollSchedule({ ...DEFAULTS, maxIntervalMs: 60_000 });
    for (const { typical } of MODELS) {
      const real = typical.seconds * 10 * 1000;
      let t = 0;
      let polls = 0;
      while (t < real) {
        const gap = gapAt(s, typical, t);
        expect(gap).toBeGreaterThanOrEqual(DEFAULTS.minIntervalMs - 1e-6);
        expect(gap).toBeLessThanOrEqual(60_000 + 1e-6);
        t += gap;
        polls++;
      }
      // Dense only inside the range, then backing off to the 60 s cap: far fewer than a fixed 10 s loop.
      expect(polls).toBeLessThan(real / 10_000);
    }
  });
});

describe('PollSchedule for a model with the default (guessed) time', () => {
  it('notices completions anywhere in the wide default range no later than a fixed 10 s loop, with no more polls', () => {
    const s = new PollSchedule({ ...DEFAULTS, maxIntervalMs: 60_000 });
    const [lo, hi] = DEFAULT_TYPICAL_TIME.rangeSeconds;
    let adaptivePolls = 0;
    let fixedPolls = 0;
    const delays: number[] = [];
    for (let ms = lo * 1000; ms <= hi * 1000; ms += 500) {
      const a = simulate((t) => gapAt(s, DEFAULT_TYPICAL_TIME, t) + t, ms);
      adaptivePolls += a.polls;
      delays.push(a.noticeDelayMs);
      fixedPolls += simulate((t) => t + 10_000, ms).polls;
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    expect(adaptivePolls).toBeLessThanOrEqual(fixedPolls);
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
  const expected = 120_000;

  it('is monotonic non-decreasing over time and stays below 1 while pending', () => {
    for (const status of [GenerationStatus.QUEUED, GenerationStatus.GENERATING]) {
      let last = -1;
      for (let e = -5_000; e <= 20 * expected; e += 500) {
        const { progress } = estimateProgress(status, T0, expected, at(e));
        expect(progress).not.toBeNull();
        expect(progress!).toBeGreaterThanOrEqual(last);
        expect(progress!).toBeGreaterThanOrEqual(0);
        expect(progress!).toBeLessThan(1);
        last = progress!;
      }
    }
  });

  it('starts at 0, reaches 0.95 at the expected time, then creeps towards 0.99', () => {
    expect(estimateProgress(GenerationStatus.QUEUED, T0, expected, T0).progress).toBe(0);
    expect(estimateProgress(GenerationStatus.GENERATING, T0, expected, at(60_000)).progress).toBeCloseTo(0.475);
    expect(estimateProgress(GenerationStatus.GENERATING, T0, expected, at(expected)).progress).toBeCloseTo(0.95);
    const late = estimateProgress(GenerationStatus.GENERATING, T0, expected, at(100 * expected)).progress!;
    expect(late).toBeGreaterThan(0.98);
    expect(late).toBeLessThanOrEqual(0.99);
  });

  it('gives an ETA and expected completion time before the expected time, none when overdue', () => {
    const early = estimateProgress(GenerationStatus.GENERATING, T0, expected, at(30_500));
    expect(early.etaSeconds).toBe(90); // ceil(89.5)
    expect(early.estimatedCompletionAt).toEqual(at(expected));
    const overdue = estimateProgress(GenerationStatus.GENERATING, T0, expected, at(expected + 1));
    expect(overdue).toMatchObject({ etaSeconds: null, estimatedCompletionAt: null });
  });

  it('treats a clock behind createdAt as no time elapsed', () => {
    expect(estimateProgress(GenerationStatus.QUEUED, T0, expected, at(-10_000))).toEqual({
      progress: 0,
      etaSeconds: 120,
      estimatedCompletionAt: at(expected),
    });
  });

  it('is 1 once COMPLETED', () => {
    expect(estimateProgress(GenerationStatus.COMPLETED, T0, expected, at(10))).toEqual({
      progress: 1,
      etaSeconds: 0,
      estimatedCompletionAt: null,
    });
  });

  it.each([[GenerationStatus.FAILED], [GenerationStatus.CANCELLED], [GenerationStatus.TIMED_OUT]])('is null when %s', (status) => {
    expect(estimateProgress(status, T0, expected, at(10_000))).toEqual({
      progress: null,
      etaSeconds: null,
      estimatedCompletionAt: null,
    });
  });
});
