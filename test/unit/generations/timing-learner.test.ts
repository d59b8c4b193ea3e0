import { planPolls, PollSchedule } from '../../../src/generations/timing';
import { TimingLearner, timingBucket, timingBucketInput } from '../../../src/generations/timing-learner';
import { addSample, emptyWeights, seedWeights, TimeDistribution } from '../../../src/generations/time-distribution';
import { typicalTimeFor } from '../../../src/generations/typical-time';
import { createRandom } from '../../../src/simulator/random';

const T0 = new Date('2025-01-01T00:00:00.000Z');
const veo3 = { model: 'google/veo3' };

/** Records `n` completions drawn uniformly from [low, high] seconds. */
async function feed(learner: TimingLearner, input: { model: string }, n: number, low: number, high: number, seed = 'learner'): Promise<void> {
  const random = createRandom(seed);
  for (let i = 0; i < n; i++) await learner.record(input, low + (high - low) * random.next(), T0);
}

describe('TimeDistribution', () => {
  it('reads quantiles back within a bin (5 %) of where the samples are', () => {
    const weights = emptyWeights();
    for (let t = 100; t < 200; t += 0.5) addSample(weights, t, 1);
    const d = new TimeDistribution(weights);
    expect(d.quantile(0.1)).toBeGreaterThan(105);
    expect(d.quantile(0.1)).toBeLessThan(115);
    expect(d.quantile(0.5) / 150).toBeCloseTo(1, 1);
    expect(d.quantile(0.9)).toBeGreaterThan(185);
    expect(d.cdf(90)).toBe(0);
    expect(d.cdf(201 * 1.05)).toBe(1);
  });

  it('takes the conditional quantile given the time elapsed', () => {
    const d = new TimeDistribution(seedWeights({ seconds: 120, rangeSeconds: [100, 140], forDurationSeconds: 8 }));
    expect(d.conditionalQuantile(0.5, 0)).toBeCloseTo(d.quantile(0.5), 6);
    expect(d.conditionalQuantile(0.5, 130)).toBeGreaterThan(130);
    expect(d.conditionalQuantile(0.5, 130)).toBeGreaterThan(d.quantile(0.5));
  });

  it('decays old samples: after half-life-many new ones, the old regime weighs half', () => {
    const weights = emptyWeights();
    const decay = 0.5 ** (1 / 20);
    for (let i = 0; i < 500; i++) addSample(weights, 100, decay);
    for (let i = 0; i < 20; i++) addSample(weights, 200, decay);
    const d = new TimeDistribution(weights);
    expect(d.cdf(150)).toBeCloseTo(0.5, 1);
  });

  it('refuses a distribution without weight', () => {
    expect(() => new TimeDistribution(emptyWeights())).toThrow();
  });
});

describe('TimingLearner', () => {
  it('starts from the catalogue seed, with no samples', () => {
    const learner = new TimingLearner();
    const { distribution, samples } = learner.timingFor(veo3);
    const [low, high] = typicalTimeFor(veo3).rangeSeconds;
    expect(samples).toBe(0);
    expect(learner.timingFor(veo3).learned).toBe(false);
    expect(distribution.quantile(0.1)).toBeCloseTo(low, -1);
    expect(distribution.quantile(0.9)).toBeCloseTo(high, -1);
  });

  it('blends with the seed by sample count, and overrides it from minSamples on', async () => {
    const learner = new TimingLearner({ minSamples: 10, halfLifeSamples: 1_000 });
    // Veo 3 (8 s) is stated at 100–150 s; its seed reaches 1.6 × 150 = 240 s, so these times are ones it allows.
    await feed(learner, veo3, 5, 210, 230);
    const half = learner.timingFor(veo3);
    expect(half.samples).toBeCloseTo(5, 1);
    // Still blended with the catalogue: an ETA from it says so (etaFromCatalogue).
    expect(half.learned).toBe(false);
    // Half learned (5 of 10): half the mass is the seed's, below the learned times.
    expect(half.distribution.cdf(180)).toBeGreaterThan(0.4);
    expect(half.distribution.cdf(180)).toBeLessThan(0.6);
    await feed(learner, veo3, 10, 210, 230, 'more');
    const full = learner.timingFor(veo3);
    expect(full.learned).toBe(true);
    expect(full.distribution.quantile(0.5)).toBeGreaterThan(205);
    expect(full.distribution.quantile(0.5)).toBeLessThan(235);
    expect(full.distribution.cdf(180)).toBe(0);
  });

  it('drops the seed after 3 effective samples where it has no weight at all (a stated time plainly wrong), not minSamples', async () => {
    const wrong = new TimingLearner({ minSamples: 10, halfLifeSamples: 1_000 });
    await feed(wrong, veo3, 2, 290, 310); // past the seed's 240 s
    expect(wrong.timingFor(veo3).learned).toBe(false);
    // Decayed, three samples weigh a little under 3: the fourth is the one that counts.
    await feed(wrong, veo3, 2, 290, 310, 'more');
    const replaced = wrong.timingFor(veo3);
    expect(replaced.learned).toBe(true);
    expect(replaced.distribution.cdf(250)).toBe(0);
    // Times the seed allows still take minSamples.
    const plausible = new TimingLearner({ minSamples: 10, halfLifeSamples: 1_000 });
    await feed(plausible, veo3, 4, 210, 230);
    expect(plausible.timingFor(veo3).learned).toBe(false);
    expect(plausible.timingFor(veo3).distribution.cdf(180)).toBeGreaterThan(0.5);
  });

  it('keeps buckets apart: model, clip length and resolution', async () => {
    const learner = new TimingLearner({ minSamples: 1 });
    await feed(learner, { model: 'google/veo3', durationSeconds: 8, resolution: '1080p' } as never, 20, 500, 520);
    expect(learner.timingFor({ model: 'google/veo3', durationSeconds: 8, resolution: '1080p' } as never).samples).toBeGreaterThan(10);
    expect(learner.timingFor({ model: 'google/veo3', durationSeconds: 8, resolution: '720p' } as never).samples).toBe(0);
    expect(learner.timingFor({ model: 'google/veo3', durationSeconds: 4 }).samples).toBe(0);
    expect(learner.timingFor({ model: 'veo2' }).samples).toBe(0);
    expect(timingBucket({ model: 'm', durationSeconds: 5, resolution: '720P' as never })).toBe(
      timingBucket({ model: 'm', durationSeconds: 5, resolution: '720p' as never }),
    );
  });

  it('seeds a bucket with no samples at the pace its model has run in its other buckets, and leaves other models alone', async () => {
    const learner = new TimingLearner({ minSamples: 10, halfLifeSamples: 1_000 });
    const eight = { model: 'google/veo3', durationSeconds: 8 } as const;
    const four = { model: 'google/veo3', durationSeconds: 4 } as const;
    const veo2 = { model: 'veo2' } as const;
    const statedMedian = (input: typeof four | typeof veo2) => new TimeDistribution(seedWeights(typicalTimeFor(input))).quantile(0.5);
    const paceOfFour = () => learner.timingFor(four).distribution.quantile(0.5) / statedMedian(four);
    expect(paceOfFour()).toBeCloseTo(1, 1);
    // 8 s clips run 2× the stated 100–150 s. Asked before, the 4 s bucket is rebuilt all the same.
    await feed(learner, eight, 3, 220, 270);
    const fromThree = paceOfFour();
    expect(fromThree).toBeGreaterThan(1.25); // three samples move it about half way (in log time)
    expect(fromThree).toBeLessThan(1.65);
    await feed(learner, eight, 30, 220, 270, 'more');
    expect(paceOfFour()).toBeGreaterThan(1.7);
    expect(paceOfFour()).toBeLessThan(2.2);
    // Still the seed (at the model's pace), not this bucket's own samples.
    expect(learner.timingFor(four)).toMatchObject({ samples: 0, learned: false });
    expect(learner.timingFor(veo2).distribution.quantile(0.5) / statedMedian(veo2)).toBeCloseTo(1, 1);
  });

  it('reads a bucket key back into the request fields it was made from', () => {
    for (const input of [
      { model: 'google/veo3' },
      { model: 'kling-video/v2.1/master/text-to-video', durationSeconds: 10 },
      { model: 'bytedance/seedance-1-0-pro-t2v', durationSeconds: 5, resolution: '1080p' as never },
      { model: 'm', resolution: '720p' as never },
    ]) {
      expect(timingBucket(timingBucketInput(timingBucket(input)))).toBe(timingBucket(input));
      expect(timingBucketInput(timingBucket(input))).toEqual({ durationSeconds: undefined, resolution: undefined, ...input });
    }
  });

  it('ignores times that are not positive', async () => {
    const learner = new TimingLearner();
    await learner.record(veo3, 0, T0);
    await learner.record(veo3, Number.NaN, T0);
    expect(learner.timingFor(veo3).samples).toBe(0);
  });
});

describe('the learned schedule', () => {
  const options = { timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 60_000 };

  /** Polls until the job of `seconds` is seen done; the learner learns the observed time, as the poller does. */
  function run(schedule: PollSchedule, seconds: number, learn = true): number {
    let t = 0;
    for (let polls = 1; polls <= 1_000; polls++) {
      t = (schedule.nextPollAt(veo3, T0, new Date(T0.getTime() + t * 1000)).getTime() - T0.getTime()) / 1000;
      if (t >= seconds) {
        if (learn) void schedule.observeCompletion(veo3, T0, new Date(T0.getTime() + t * 1000));
        return polls;
      }
    }
    throw new Error('runaway schedule');
  }

  it('puts more polls near the likely completion once it has learned where that is', async () => {
    const learner = new TimingLearner({ minSamples: 10 });
    await feed(learner, veo3, 30, 150, 160);
    const plan = Array.from(new PollSchedule(options, learner).planFor(learner.timingFor(veo3).distribution));
    const near = plan.filter((t) => t >= 145 && t <= 170).length;
    const far = plan.filter((t) => t < 140).length;
    expect(near).toBeGreaterThanOrEqual(5);
    expect(far).toBeLessThanOrEqual(3);
  });

  it('after the upstream turns 2× slower than the catalogue says, adapts within 20 generations: polls drop to within 1.25× of the optimum for the new times', () => {
    const [low, high] = typicalTimeFor(veo3).rangeSeconds;
    const random = createRandom('drift');
    const draw = () => (low + (high - low) * random.next()) * 2;
    const learned = new PollSchedule(options, new TimingLearner({ minSamples: 10, halfLifeSamples: 20 }));
    const frozen = new PollSchedule(options, new TimingLearner());
    const early: number[] = [];
    const late: number[] = [];
    const staticPolls: number[] = [];
    for (let k = 0; k < 40; k++) {
      const seconds = draw();
      (k < 5 ? early : k >= 20 ? late : []).push(run(learned, seconds));
      // The static schedule never learns: the catalogue's plan throughout.
      if (k >= 20) staticPolls.push(run(frozen, seconds, false));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(late)).toBeLessThan(mean(early));
    expect(mean(late)).toBeLessThan(mean(staticPolls) * 0.9);
    // The optimum: the plan a schedule knowing the true (uniform, 2×) distribution would make for the same notice target.
    const truth = emptyWeights();
    for (let t = 2 * low; t <= 2 * high; t += 0.25) addSample(truth, t, 1);
    const plan = planPolls(new TimeDistribution(truth), { minGapS: 2, maxGapS: 60, targetDelayS: 4.5, coverage: 0.97 }); // the schedule's own target
    const optimum = mean(Array.from({ length: 400 }, (_, i) => plan.findIndex((t) => t >= 2 * low + ((i + 0.5) / 400) * 2 * (high - low)) + 1));
    expect(mean(late)).toBeLessThanOrEqual(optimum * 1.25);
    // And the learned distribution now centres on the slower times.
    const median = learned.timingFor(veo3).distribution.quantile(0.5);
    expect(median / (low + high)).toBeGreaterThan(0.9);
    expect(median / (low + high)).toBeLessThan(1.15);
  });
});
