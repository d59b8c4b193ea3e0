/**
 * Benchmark: the learned poll schedule and ETA (issue 13, part B), in virtual time. It drives the
 * gateway's own PollSchedule and TimingLearner (no servers, no sleeping) over generation times drawn
 * the way the simulator draws them (uniform over `timelineSeconds`, seeded), and compares in the same
 * run: the vendor's fixed 10 s loop, the static schedule (the catalogue's stated time, never learning),
 * the learned schedule (learning from each completion it notices), and the optimum (a plan made from
 * the true distribution for the learned run's p95 delay). Twice: on the simulator's own times, and on a
 * "drift" run where every job takes 2× what the catalogue says. Figures in unscaled seconds.
 */
import { PollSchedule, planPolls, type TimingOptions } from '../src/generations/timing';
import { TimingLearner, type TimingLearnerOptions } from '../src/generations/timing-learner';
import { binOf, emptyWeights, TimeDistribution } from '../src/generations/time-distribution';
import { exampleInput } from '../src/generations/example-input';
import { GenerationStatus, type GenerationInput } from '../src/model/generation';
import { createRandom } from '../src/simulator/random';
import { timelineSeconds } from '../src/simulator/timelines';
import { typicalTimeFor } from '../src/generations/typical-time';
import { findModel } from '../src/upstream/models';
import { VENDOR_INTERVAL_MS } from './fixed-loop-poller';
import { quantile } from './stats';

export interface LearnedTimingOptions {
  /** Generations of each model, one after another (each completion is learned before the next starts). */
  perModel: number;
  /** Multiplies every true time (2: the drift run). */
  drift: number;
  seed?: string;
}

/** Polls per generation and completion-notice delay (p95), seconds. */
export interface ScheduleFigures {
  pollsPerGeneration: number;
  delayP95: number;
}

export interface EtaError {
  /** |ETA − actual time left| at 25, 50 and 75 % of each job: median and p90, seconds. */
  at: { fraction: number; median: number; p90: number }[];
}

export interface LearnedTimingResult {
  generations: number;
  drift: number;
  fixedLoop: ScheduleFigures;
  static: ScheduleFigures;
  learned: ScheduleFigures;
  /** The true distribution's plan for the learned run's p95 delay. */
  optimum: ScheduleFigures;
  /** The learned run after its first `recovery` generations per model. */
  learnedSettled: ScheduleFigures;
  /** Generations per model until the learned median is within 10 % of the true one (worst model). */
  recovery: number;
  etaLearned: EtaError;
  etaStatic: EtaError;
}

/** Models with different stated times (and the conservative default), each with its example input. */
const BENCH_MODELS = ['veo2', 'google/veo3', 'google/veo-3.1-i2v', 'minimax/hailuo-02', 'klingai/v2-master-text-to-video', 'luma/ray-2'];

/** The gateway's defaults (config.ts). */
const OPTIONS: TimingOptions = { timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 60_000, noticeTargetMs: 4_500 };
const LEARNING: TimingLearnerOptions = { minSamples: 10, halfLifeSamples: 20 };
const FRACTIONS = [0.25, 0.5, 0.75];
const T0 = new Date(0);

interface Job {
  input: GenerationInput;
  seconds: number;
}

/** Polls a schedule makes for a job of `seconds`, and how late it notices the completion. */
function simulate(next: (elapsedS: number) => number, seconds: number): { polls: number; delay: number } {
  let t = 0;
  for (let polls = 1; polls <= 100_000; polls++) {
    t = next(t);
    if (t >= seconds) return { polls, delay: t - seconds };
  }
  throw new Error('a schedule never reached the job’s end');
}

function figures(runs: readonly { polls: number; delay: number }[]): ScheduleFigures {
  return {
    pollsPerGeneration: runs.reduce((a, r) => a + r.polls, 0) / Math.max(1, runs.length),
    delayP95: quantile(
      runs.map((r) => r.delay),
      0.95,
    ),
  };
}

function nextBy(schedule: PollSchedule, distribution: TimeDistribution): (elapsedS: number) => number {
  return (elapsedS) => schedule.nextPollFrom(distribution, T0, new Date(elapsedS * 1000)).getTime() / 1000;
}

/** The true distribution of a model's jobs: uniform over its (drifted) range, as the simulator draws. */
function trueDistribution(low: number, high: number): TimeDistribution {
  const weights = emptyWeights();
  const steps = 400;
  for (let k = 0; k < steps; k++) {
    const t = low + ((k + 0.5) / steps) * (high - low);
    weights[binOf(t)]! += 1;
  }
  return new TimeDistribution(weights);
}

function summarize(errors: { fraction: number; errors: number[] }[]): EtaError {
  return { at: errors.map((e) => ({ fraction: e.fraction, median: quantile(e.errors, 0.5), p90: quantile(e.errors, 0.9) })) };
}

export function runLearnedTiming(o: LearnedTimingOptions): LearnedTimingResult {
  const random = createRandom(o.seed ?? 'bench-learned-timing');
  const fixed: { polls: number; delay: number }[] = [];
  const stat: { polls: number; delay: number }[] = [];
  const learned: { polls: number; delay: number }[] = [];
  const settled: { polls: number; delay: number }[] = [];
  const optimum: { polls: number; delay: number }[] = [];
  const learnedEta: { fraction: number; errors: number[] }[] = FRACTIONS.map((fraction) => ({ fraction, errors: [] }));
  const staticEta: { fraction: number; errors: number[] }[] = FRACTIONS.map((fraction) => ({ fraction, errors: [] }));
  const staticSchedule = new PollSchedule(OPTIONS, new TimingLearner(LEARNING));
  const perModelJobs: { jobs: Job[]; truth: TimeDistribution; recovery: number }[] = [];
  let recovery = 0;

  for (const id of BENCH_MODELS) {
    const model = findModel(id);
    if (!model) throw new Error(`bench model ${id} is not in the catalogue`);
    const input = exampleInput(model);
    const duration = input.durationSeconds ?? typicalTimeFor(input).forDurationSeconds;
    const [low, high] = timelineSeconds({ modelId: id, duration, ...(input.resolution ? { resolution: input.resolution } : {}) }).map(
      (s) => s * o.drift,
    ) as [number, number];
    const truth = trueDistribution(low, high);
    const trueMedian = truth.quantile(0.5);
    // A fresh learner per model and run: the learned schedule starts from the catalogue, like a new gateway.
    const learnedSchedule = new PollSchedule(OPTIONS, new TimingLearner(LEARNING));
    const jobs: Job[] = [];
    let modelRecovery = -1;
    for (let k = 0; k < o.perModel; k++) {
      const seconds = low + (high - low) * random.next();
      const job = { input, seconds };
      jobs.push(job);
      const fixedPolls = Math.ceil(seconds / (VENDOR_INTERVAL_MS / 1000));
      fixed.push({ polls: fixedPolls, delay: fixedPolls * (VENDOR_INTERVAL_MS / 1000) - seconds });
      stat.push(simulate(nextBy(staticSchedule, staticSchedule.timingFor(input).distribution), seconds));
      // ETA while the job runs, from what the learner knows when it starts.
      const learnedTiming = learnedSchedule.timingFor(input);
      for (const [i, fraction] of FRACTIONS.entries()) {
        const at = new Date(seconds * fraction * 1000);
        learnedEta[i]!.errors.push(
          Math.abs((learnedSchedule.estimate(GenerationStatus.GENERATING, input, T0, at).etaSeconds ?? 0) - seconds * (1 - fraction)),
        );
        staticEta[i]!.errors.push(
          Math.abs((staticSchedule.estimate(GenerationStatus.GENERATING, input, T0, at).etaSeconds ?? 0) - seconds * (1 - fraction)),
        );
      }
      const run = simulate(nextBy(learnedSchedule, learnedTiming.distribution), seconds);
      learned.push(run);
      if (modelRecovery >= 0) settled.push(run);
      // The gateway learns the time it observed: creation to the poll that saw COMPLETED.
      void learnedSchedule.observeCompletion(input, T0, new Date((seconds + run.delay) * 1000));
      const median = learnedSchedule.timingFor(input).distribution.quantile(0.5);
      if (modelRecovery < 0 && Math.abs(median - trueMedian) <= 0.1 * trueMedian) modelRecovery = k + 1;
    }
    const modelRecoveryOrAll = modelRecovery < 0 ? o.perModel : modelRecovery;
    recovery = Math.max(recovery, modelRecoveryOrAll);
    perModelJobs.push({ jobs, truth, recovery: modelRecoveryOrAll });
  }

  // The optimum: for each model, the plan made from its true distribution for the learned run's p95.
  const learnedFigures = figures(learned);
  for (const { jobs, truth } of perModelJobs) {
    const plan = planPolls(truth, {
      minGapS: OPTIONS.minIntervalMs / 1000,
      maxGapS: OPTIONS.maxIntervalMs / 1000,
      targetDelayS: learnedFigures.delayP95,
      coverage: 0.95,
    });
    for (const job of jobs) {
      const polls = plan.findIndex((t) => t >= job.seconds);
      if (polls >= 0) optimum.push({ polls: polls + 1, delay: plan[polls]! - job.seconds });
      else optimum.push(simulate(nextBy(staticSchedule, truth), job.seconds));
    }
  }
  return {
    generations: fixed.length,
    drift: o.drift,
    fixedLoop: figures(fixed),
    static: figures(stat),
    learned: learnedFigures,
    optimum: figures(optimum),
    learnedSettled: figures(settled),
    recovery,
    etaLearned: summarize(learnedEta),
    etaStatic: summarize(staticEta),
  };
}
