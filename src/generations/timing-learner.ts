/**
 * Learns how long generations really take, from the gateway's own finished ones.
 *
 * Each bucket (a model, a clip length, a resolution: the things that change a job's time) keeps a
 * recency-weighted histogram of create → COMPLETED times (time-distribution.ts). The store holds it
 * (table `generation_timings`), so every instance learns from every instance's completions; over
 * PostgreSQL each instance re-reads the table every `refreshMs`, over the embedded store (one process)
 * it reads it once and keeps its own samples in memory as well. Until a bucket has `minSamples` (effective,
 * decayed) samples, its distribution is a blend with a seed, weighted by the sample count; from then on
 * the learned histogram alone. The seed is the catalogue's stated time for the bucket, scaled by the
 * model's pace: how much slower or faster than stated the model has run in its other buckets. So a
 * model found 2× slower at 8 s is expected to be slower at 4 s too, before the first 4 s job ends.
 */
import type { Logger } from 'pino';
import type { GenerationTimings } from '../store/store';
import type { GenerationInput } from '../model/generation';
import type { TypicalTime } from '../upstream/models';
import { addSample, binOf, emptyWeights, seedWeights, smoothed, TIME_BINS, TimeDistribution } from './time-distribution';
import { typicalTimeFor } from './typical-time';

export interface LearnedTiming {
  distribution: TimeDistribution;
  /** Effective (recency-weighted) samples behind it; 0 when it is the catalogue's seed alone. */
  samples: number;
  /** Enough samples behind it (see samplesToReplace) for the learned histogram alone, no longer blended with the catalogue's seed. */
  learned: boolean;
}

export interface TimingLearnerOptions {
  /** Where sketches are shared between instances. Without one, learning stays in this process. */
  store?: GenerationTimings | null;
  /** Effective samples from which a bucket's learned distribution replaces the seed entirely. */
  minSamples?: number;
  /** Samples after which an observation counts half: how fast an old regime fades. */
  halfLifeSamples?: number;
  /**
   * Other instances write to the same store (PostgreSQL): re-read it every `refreshMs`. Otherwise (the
   * embedded store, one process) it is read once at start and this instance's samples are kept in memory too.
   */
  shared?: boolean;
  /**
   * How often to re-read every instance's sketches from a shared store, and the least time between two
   * rebuilds of one bucket's distribution (each rebuild costs a new poll plan), in ms. Default 15 s with a
   * store, 0 (every sample at once) without.
   */
  refreshMs?: number;
  log?: Logger;
}

export const DEFAULT_TIMING_MIN_SAMPLES = 10;
export const DEFAULT_TIMING_HALF_LIFE_SAMPLES = 20;
export const DEFAULT_TIMING_REFRESH_MS = 15_000;
/** The fewest effective samples that replace the seed, when all of them fall outside it (samplesToReplace). */
const SURPRISED_MIN_SAMPLES = 3;
/**
 * Samples at the catalogue's own pace that a model's learned pace is shrunk towards (paceOf): a pace
 * from 3 samples in other buckets moves the seed half way, from 30 nearly all the way.
 */
const PACE_PRIOR_SAMPLES = 3;

type TimingInput = Pick<GenerationInput, 'model' | 'durationSeconds' | 'resolution'>;

/** The key a generation's time is learned under. Unset inputs take the model's default, so they share one. */
export function timingBucket(input: TimingInput): string {
  return `${input.model}|${input.durationSeconds ?? ''}|${input.resolution?.toLowerCase() ?? ''}`;
}

/** The request fields a bucket's key was made from (timingBucket read back; model ids hold no `|`). */
export function timingBucketInput(bucket: string): TimingInput {
  const resolutionAt = bucket.lastIndexOf('|');
  const durationAt = bucket.lastIndexOf('|', resolutionAt - 1);
  const duration = bucket.slice(durationAt + 1, resolutionAt);
  const resolution = bucket.slice(resolutionAt + 1);
  return {
    model: bucket.slice(0, durationAt),
    durationSeconds: duration ? Number(duration) : undefined,
    resolution: (resolution || undefined) as TimingInput['resolution'],
  };
}

/** A stated time run `pace` times as long (a pace of 2: twice as slow). */
function atPace(typical: TypicalTime, pace: number): TypicalTime {
  if (pace === 1) return typical;
  const [low, high] = typical.rangeSeconds;
  return { seconds: typical.seconds * pace, rangeSeconds: [low * pace, high * pace], forDurationSeconds: typical.forDurationSeconds };
}

/** The median of a stated time's seed distribution, in seconds. */
function statedMedian(typical: TypicalTime): number {
  return new TimeDistribution(seedWeights(typical)).quantile(0.5);
}

export class TimingLearner {
  private readonly sketches = new Map<string, number[]>();
  private readonly distributions = new Map<string, { timing: LearnedTiming; builtAt: number; stale: boolean }>();
  private readonly minSamples: number;
  private readonly decay: number;
  private readonly refreshMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: TimingLearnerOptions = {}) {
    this.minSamples = options.minSamples ?? DEFAULT_TIMING_MIN_SAMPLES;
    this.decay = 0.5 ** (1 / (options.halfLifeSamples ?? DEFAULT_TIMING_HALF_LIFE_SAMPLES));
    this.refreshMs = options.refreshMs ?? (options.store ? DEFAULT_TIMING_REFRESH_MS : 0);
  }

  /** Loads the stored sketches, then, when other instances share them, re-reads them every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    if (!this.options.store || !this.options.shared || this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One finished generation took `seconds` (at time scale 1). With a store, the sample is written
   * there and shows at the next refresh (every instance at once); without one, here at once.
   */
  async record(input: TimingInput, seconds: number, at: Date): Promise<void> {
    if (!(seconds > 0)) return;
    const bucket = timingBucket(input);
    if (!this.options.shared) {
      // Alone on the store (or without one): what the store would hold after this write, kept here too.
      const weights = this.sketches.get(bucket) ?? emptyWeights();
      addSample(weights, seconds, this.decay);
      this.sketches.set(bucket, weights);
      // The model's other buckets too: their seeds follow its pace.
      for (const [key, built] of this.distributions) if (key.startsWith(`${input.model}|`)) built.stale = true;
    }
    if (!this.options.store) return;
    try {
      await this.options.store.recordGenerationTime({ bucket, bin: binOf(seconds), bins: TIME_BINS, decay: this.decay, at });
    } catch (err) {
      this.options.log?.warn({ err, bucket }, 'could not record a generation time; the schedule learns from the next one');
    }
  }

  /** Re-reads every bucket's sketch from the store. A failed read keeps what was known. */
  async refresh(): Promise<void> {
    if (!this.options.store) return;
    try {
      const rows = await this.options.store.listGenerationTimings();
      this.sketches.clear();
      for (const row of rows) if (row.weights.length === TIME_BINS) this.sketches.set(row.bucket, row.weights);
      this.distributions.clear();
    } catch (err) {
      this.options.log?.warn({ err }, 'could not read the learned generation times; keeping the last ones');
    }
  }

  /**
   * Effective samples from which the learned sketch replaces the seed: `minSamples` while the samples fall
   * where the catalogue's seed has weight, fewer (down to SURPRISED_MIN_SAMPLES) as more of their weight
   * falls where it has none. A stated time that is plainly wrong (a model running 2× slower) is dropped
   * after a few generations, not `minSamples`, each planned for the wrong range and polled past its plan.
   */
  private samplesToReplace(seed: readonly number[], sketch: readonly number[], samples: number): number {
    let outside = 0;
    sketch.forEach((w, i) => {
      if (seed[i] === 0) outside += w;
    });
    return Math.max(Math.min(this.minSamples, SURPRISED_MIN_SAMPLES), this.minSamples * (1 - outside / samples));
  }

  /**
   * How many times as long as the catalogue states the model has run in its buckets other than
   * `except`: the sample-weighted geometric mean of learned over stated medians, shrunk towards 1 by
   * PACE_PRIOR_SAMPLES. 1 when the model has no other samples.
   */
  private paceOf(model: string, except: string): number {
    let logRatios = 0;
    let samples = 0;
    for (const [bucket, sketch] of this.sketches) {
      if (bucket === except || !bucket.startsWith(`${model}|`)) continue;
      const weight = sketch.reduce((a, b) => a + b, 0);
      if (!(weight > 0)) continue;
      const learnedMedian = new TimeDistribution(smoothed(sketch)).quantile(0.5);
      logRatios += weight * Math.log(learnedMedian / statedMedian(typicalTimeFor(timingBucketInput(bucket))));
      samples += weight;
    }
    return samples > 0 ? Math.exp(logRatios / (samples + PACE_PRIOR_SAMPLES)) : 1;
  }

  /** The time distribution of this request: learned, seeded at the model's pace, or a blend by sample count. */
  timingFor(input: TimingInput): LearnedTiming {
    const bucket = timingBucket(input);
    const cached = this.distributions.get(bucket);
    if (cached && !(cached.stale && Date.now() - cached.builtAt >= this.refreshMs)) return cached.timing;
    const seed = seedWeights(atPace(typicalTimeFor(input), this.paceOf(input.model, bucket)));
    const sketch = this.sketches.get(bucket);
    const samples = sketch ? sketch.reduce((a, b) => a + b, 0) : 0;
    let weights = seed;
    let learned = 0;
    if (sketch && samples > 0) {
      learned = Math.min(1, samples / this.samplesToReplace(seed, sketch, samples));
      const smooth = smoothed(sketch);
      weights = seed.map((s, i) => s * (1 - learned) + (smooth[i]! / samples) * learned);
    }
    const timing = { distribution: new TimeDistribution(weights), samples, learned: learned >= 1 };
    this.distributions.set(bucket, { timing, builtAt: Date.now(), stale: false });
    return timing;
  }
}
