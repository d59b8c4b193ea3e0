/**
 * The poll schedule and the progress estimate, both from a generation's time distribution (learned
 * from finished generations, seeded by the catalogue: timing-learner.ts). Pure functions of time
 * and of that distribution, so they are easy to test and to benchmark in virtual time.
 */
import type { TypicalTime } from '../upstream/models';
import { GenerationStatus, type GenerationInput } from '../model/generation';
import { TimingLearner, type LearnedTiming } from './timing-learner';
import { typicalTimeFor } from './typical-time';
import type { TimeDistribution } from './time-distribution';

export { typicalTimeFor } from './typical-time';

export interface TimingOptions {
  /** Multiplies every upstream time (1 for the real upstream; the simulator's scale otherwise). */
  timeScale: number;
  /** Shortest gap between two polls of one generation, in ms at time scale 1. */
  minIntervalMs: number;
  /** Longest gap between two polls of one generation, in ms at time scale 1. */
  maxIntervalMs: number;
  /**
   * The completion-notice delay the schedule aims at, in ms at time scale 1: it plans the fewest
   * polls that notice `NOTICE_COVERAGE` of completions within it. Default IN_RANGE_INTERVAL_MS.
   */
  noticeTargetMs?: number;
  /**
   * Build poll plans off the request path (one per turn of the event loop, after the current one) and
   * answer from the catalogue's stated range until a distribution's plan is ready. A plan costs a few ms
   * warm and 100 ms+ on a cold start, and a create or a poll must not wait for it. The gateway sets
   * this; unit tests and benches plan synchronously.
   */
  planInBackground?: boolean;
}

/**
 * The default notice target, in ms at time scale 1. The vendor's fixed 10 s loop notices a
 * completion 0–10 s late (p95 ≈ 9.5 s); 4.5 s for nearly every completion keeps our p95 under half.
 */
export const IN_RANGE_INTERVAL_MS = 4_500;
/**
 * The share of completions the plan notices within the target. Above 95 % so that a p95 holds
 * when the learned distribution is a little off.
 */
const NOTICE_COVERAGE = 0.97;
/** The plan runs to this quantile (×1.2); past it a job is overdue and polls spread out. */
const PLAN_END_QUANTILE = 0.999;
/** At most this many grid steps per plan: bounds the planner's work for hour-long models. */
const PLAN_STEPS = 600;
/** Expected polls a plan may trade for nothing: only breaks ties between plans of equal cost. */
const POLL_TIE_BREAK = 1e-6;
/** Looks inside a stated range at most, before the catalogue schedule's gap widens past the notice target. */
const IN_RANGE_LOOKS = 20;
/** The catalogue schedule's widest in-range gap, in ms at time scale 1: the vendor's own fixed loop. */
const WIDE_RANGE_INTERVAL_MS = 10_000;

type TimingInput = Pick<GenerationInput, 'model' | 'durationSeconds' | 'resolution'>;

/**
 * Adaptive poll schedule. The vendor polls every 10–15 s from the start; most of those polls only
 * learn "still generating". Given a generation's time distribution, the schedule plans the poll
 * times (from creation) with the fewest expected polls such that `NOTICE_COVERAGE` of completions
 * are noticed within the notice target, gaps within the minimum and maximum interval: a dynamic
 * program over a time grid, with a Lagrange multiplier on the late share found by bisection.
 * Polls land where completions are likely; a plan that is optimal from creation is optimal from
 * every later poll too (Bellman), so a poll at elapsed time `e` simply takes the plan's next time:
 * that is the schedule conditional on "not done after `e`". One plan per distribution, cached.
 */
export class PollSchedule {
  private readonly plans = new WeakMap<TimeDistribution, Float64Array>();
  /** Distributions waiting for their plan (planInBackground), in the order they were asked for. */
  private readonly unplanned = new Set<TimeDistribution>();
  readonly learner: TimingLearner;

  constructor(
    private readonly options: TimingOptions,
    learner?: TimingLearner,
  ) {
    this.learner = learner ?? new TimingLearner();
  }

  /** Expected create-to-completion time from the catalogue alone, in ms (scaled). */
  expectedMs(typical: TypicalTime): number {
    return typical.seconds * 1000 * this.options.timeScale;
  }

  /** The distribution this schedule uses for a request (learned, seeded or blended). */
  timingFor(input: TimingInput): LearnedTiming {
    return this.learner.timingFor(input);
  }

  /** Feeds one completion observed at `completedAt` to the learner, in unscaled seconds. */
  observeCompletion(input: TimingInput, createdAt: Date, completedAt: Date): Promise<void> {
    const seconds = (completedAt.getTime() - createdAt.getTime()) / 1000 / this.options.timeScale;
    return this.learner.record(input, seconds, completedAt);
  }

  /**
   * When to poll next, given when the generation was created. With a `deadline` that comes before
   * that time, the poll moves to the deadline's eve (one minimum gap before it), once: a sparse
   * schedule must not let a generation time out without a look.
   */
  nextPollAt(input: TimingInput, createdAt: Date, now: Date, deadline?: Date): Date {
    const distribution = this.timingFor(input).distribution;
    if (!this.options.planInBackground) return this.nextPollFrom(distribution, createdAt, now, deadline);
    const plan = this.readyPlan(distribution);
    const elapsedS = this.elapsedS(createdAt, now);
    const gapS = plan ? this.plannedGapS(plan, elapsedS) : this.catalogueGapS(typicalTimeFor(input), elapsedS);
    return this.at(gapS, now, deadline);
  }

  /** `nextPollAt` for a distribution at hand, planning it now if need be (benchmarks drive this one). */
  nextPollFrom(distribution: TimeDistribution, createdAt: Date, now: Date, deadline?: Date): Date {
    return this.at(this.plannedGapS(this.planFor(distribution), this.elapsedS(createdAt, now)), now, deadline);
  }

  private elapsedS(createdAt: Date, now: Date): number {
    return (now.getTime() - createdAt.getTime()) / 1000 / this.options.timeScale;
  }

  /** Seconds (unscaled) from `elapsedS` to the plan's next poll. */
  private plannedGapS(plan: Float64Array, elapsedS: number): number {
    const minGapS = this.options.minIntervalMs / 1000;
    // The first planned time at least a minimum gap away: a poll that ran late skips the times it missed.
    for (const t of plan) if (t >= elapsedS + minGapS * 0.999) return t - elapsedS;
    // Overdue: the longer it runs, the less likely the next second matters.
    const end = plan.length > 0 ? plan[plan.length - 1]! : 0;
    return this.noticeTargetMs() / 1000 + 0.1 * Math.max(0, elapsedS - end);
  }

  /**
   * Seconds (unscaled) to the next poll from the catalogue's stated range alone, while a plan is being
   * built: one look halfway to the range, dense looks inside it, spreading out past it.
   */
  private catalogueGapS(typical: TypicalTime, elapsedS: number): number {
    const [low, high] = typical.rangeSeconds;
    // A wide range (a guessed time) would take too many dense looks: spread them, up to the vendor's own 10 s.
    const dense = Math.min(WIDE_RANGE_INTERVAL_MS / 1000, Math.max(this.noticeTargetMs() / 1000, (high - low) / IN_RANGE_LOOKS));
    if (elapsedS < low / 2) return low / 2 - elapsedS;
    if (elapsedS < low) return low + dense / 2 - elapsedS;
    if (elapsedS < high) return dense;
    return dense + 0.1 * (elapsedS - high);
  }

  /** The poll time `gapS` (unscaled) after `now`, within the gap limits and moved to the deadline's eve. */
  private at(gapS: number, now: Date, deadline?: Date): Date {
    const scale = this.options.timeScale;
    const next = now.getTime() + this.clamp(gapS * 1000 * scale);
    const eve = deadline ? deadline.getTime() - this.options.minIntervalMs * scale : Infinity;
    return new Date(next > eve && now.getTime() < eve ? eve : next);
  }

  /** The plan of a distribution if it is built; otherwise queues it to be built after this turn. */
  private readyPlan(distribution: TimeDistribution): Float64Array | undefined {
    const plan = this.plans.get(distribution);
    if (plan) return plan;
    if (!this.unplanned.has(distribution)) {
      this.unplanned.add(distribution);
      if (this.unplanned.size === 1) setImmediate(() => this.planNext()).unref();
    }
    return undefined;
  }

  /** Builds one queued plan per turn, so a burst of new buckets never holds the event loop for long. */
  private planNext(): void {
    const [distribution] = this.unplanned;
    if (!distribution) return;
    this.planFor(distribution);
    this.unplanned.delete(distribution);
    if (this.unplanned.size > 0) setImmediate(() => this.planNext()).unref();
  }

  /** The planned poll times of a distribution, in unscaled seconds from creation. */
  planFor(distribution: TimeDistribution): Float64Array {
    let plan = this.plans.get(distribution);
    if (!plan) {
      plan = planPolls(distribution, {
        minGapS: this.options.minIntervalMs / 1000,
        maxGapS: this.options.maxIntervalMs / 1000,
        targetDelayS: this.noticeTargetMs() / 1000,
        coverage: NOTICE_COVERAGE,
      });
      this.plans.set(distribution, plan);
    }
    return plan;
  }

  /** When to retry after `failures` consecutive failed polls: exponential with full jitter. */
  retryAt(failures: number, now: Date, random = Math.random): Date {
    const base = this.options.minIntervalMs * this.options.timeScale;
    const ceiling = Math.min(this.options.maxIntervalMs * this.options.timeScale, base * 2 ** Math.min(failures, 10));
    return new Date(now.getTime() + this.clamp(base + random() * (ceiling - base)));
  }

  /** Progress and ETA of a generation from its distribution, in this schedule's time scale. */
  estimate(status: GenerationStatus, input: TimingInput, createdAt: Date, now: Date): ProgressEstimate {
    const timing = this.timingFor(input);
    return estimateProgress(status, createdAt, timing.distribution, now, this.options.timeScale, timing.samples, timing.learned);
  }

  private noticeTargetMs(): number {
    return this.options.noticeTargetMs ?? IN_RANGE_INTERVAL_MS;
  }

  private clamp(ms: number): number {
    const { minIntervalMs, maxIntervalMs, timeScale } = this.options;
    return Math.min(maxIntervalMs * timeScale, Math.max(minIntervalMs * timeScale, ms));
  }
}

export interface PlanOptions {
  minGapS: number;
  maxGapS: number;
  /** A completion noticed later than this after it happened counts as late. */
  targetDelayS: number;
  /** The share of completions that must not be late. */
  coverage: number;
}

/**
 * The poll times (unscaled seconds from creation) with the fewest expected polls per generation
 * such that at most `1 − coverage` of completions are noticed later than `targetDelayS`, under
 * `distribution`. Every poll at time t is paid by each job still running at the previous poll,
 * so a plan's cost is Σ (1 − F(previous poll)); a job completing in (s, t] is late when
 * t − T > target. Minimising cost + λ·late by dynamic programming over a grid, λ by bisection.
 * Also the benchmark's optimum, given the true distribution.
 */
export function planPolls(distribution: TimeDistribution, o: PlanOptions): Float64Array {
  const horizon = distribution.quantile(PLAN_END_QUANTILE) * 1.2;
  const step = Math.max(0.25, Math.min(o.targetDelayS / 3, horizon / PLAN_STEPS), horizon / (PLAN_STEPS * 3));
  const n = Math.max(1, Math.ceil(horizon / step));
  const F = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) F[i] = distribution.cdf(i * step);
  const gMin = Math.max(1, Math.ceil(o.minGapS / step - 1e-9));
  const gMax = Math.max(gMin, Math.floor(o.maxGapS / step + 1e-9));
  const dSteps = Math.floor(o.targetDelayS / step + 1e-9);
  const value = new Float64Array(n + 1);
  const late = new Float64Array(n + 1);
  const choice = new Int32Array(n + 1);
  // j − i ≤ d: nothing completing in (i, j] is late; j − i > d: what completes before j − d is.
  const onTime = { from: gMin, to: Math.min(gMax, dSteps) };
  const withLate = { from: Math.max(gMin, dSteps + 1), to: gMax };

  const solve = (lambda: number): number => {
    value[n] = 0;
    late[n] = 1 - F[n]!; // beyond the plan: noticed by the overdue polls, counted late
    // Both costs are a function of i plus a function of j, so each is a sliding-window minimum over
    // j (monotone deques): O(n) per λ instead of O(n × gMax).
    const a = new WindowMin(n + 1);
    const b = new WindowMin(n + 1);
    for (let i = n - 1; i >= 0; i--) {
      if (i + onTime.from <= n && onTime.from <= onTime.to) a.push(i + onTime.from, value[i + onTime.from]!);
      a.expire(i + onTime.to);
      if (i + withLate.from <= n && withLate.from <= withLate.to) {
        const j = i + withLate.from;
        b.push(j, lambda * F[j - dSteps]! + value[j]!);
      }
      b.expire(i + withLate.to);
      let best = Infinity;
      let bestJ = n;
      if (a.size > 0) {
        best = a.minValue;
        bestJ = a.minIndex;
      }
      if (b.size > 0) {
        const v = b.minValue - lambda * F[i]!;
        if (v < best) {
          best = v;
          bestJ = b.minIndex;
        }
      }
      if (best === Infinity) best = lambda * (F[Math.max(i, n - dSteps)]! - F[i]!) + value[n]!; // the last step, shorter than a minimum gap
      // A small price per poll breaks ties (a poll after every job has ended costs nothing otherwise).
      value[i] = 1 - F[i]! + POLL_TIE_BREAK + best;
      choice[i] = bestJ;
      late[i] = F[Math.max(i, bestJ - dSteps)]! - F[i]! + late[bestJ]!;
    }
    return late[0]!;
  };

  const allowed = 1 - o.coverage;
  // λ is the price of a late notice in polls: between a tenth of a poll and 10⁵ polls covers every plan.
  let low = 0.1;
  let high = 1e5;
  if (solve(high) > allowed) {
    // Not reachable within the gaps allowed: the densest plan there is.
  } else {
    for (let k = 0; k < 16; k++) {
      const mid = Math.sqrt(low * high);
      if (solve(mid) <= allowed) high = mid;
      else low = mid;
    }
    solve(high);
  }
  const times: number[] = [];
  for (let i = choice[0]!; i <= n; i = choice[i]!) {
    times.push(i * step);
    if (i === n) break;
  }
  return Float64Array.from(times);
}

/** The minimum of a window of (index, value) pairs that slides towards lower indices. */
class WindowMin {
  private readonly index: Int32Array;
  private readonly value: Float64Array;
  private head = 0;
  private tail = 0;

  constructor(capacity: number) {
    this.index = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
  }

  get size(): number {
    return this.tail - this.head;
  }

  get minIndex(): number {
    return this.index[this.head]!;
  }

  get minValue(): number {
    return this.value[this.head]!;
  }

  /** Adds an index lower than every one held; entries it makes useless (no lower value, leaving sooner) go. */
  push(index: number, value: number): void {
    while (this.tail > this.head && this.value[this.tail - 1]! >= value) this.tail--;
    this.index[this.tail] = index;
    this.value[this.tail] = value;
    this.tail++;
  }

  /** Drops entries above `maxIndex`. */
  expire(maxIndex: number): void {
    while (this.tail > this.head && this.index[this.head]! > maxIndex) this.head++;
  }
}

export interface ProgressEstimate {
  /** 0 to 1; null once the generation ended without a video. */
  progress: number | null;
  /** Seconds until the expected (median) completion; null when ended or overdue. */
  etaSeconds: number | null;
  /** The 10th and 90th percentiles of the seconds still to come, given the time elapsed; null when ended or overdue. */
  etaLowSeconds: number | null;
  etaHighSeconds: number | null;
  estimatedCompletionAt: Date | null;
  /** Effective finished generations the estimate learned from; 0 when it is the catalogue's stated time alone, or once ended. */
  sampleCount: number;
  /** Fewer samples than the learner needs (TIMING_MIN_SAMPLES): the catalogue's stated time is still blended in. False once ended. */
  fromCatalogue: boolean;
}

/**
 * A progress estimate from the time elapsed against the distribution: the ETA is the conditional
 * median of the time still to come (given that the job is not done yet), its range the conditional
 * 10th–90th percentiles. The upstream reports no progress of its own, so this is an estimate; it
 * never reaches 1 before the video exists.
 */
export function estimateProgress(
  status: GenerationStatus,
  createdAt: Date,
  distribution: TimeDistribution,
  now: Date,
  timeScale = 1,
  sampleCount = 0,
  learned = false,
): ProgressEstimate {
  const fromCatalogue = !learned;
  // An ended generation has nothing left to estimate, so it does not report what the learner knows
  // now: its representation stays the same however many generations finish after it.
  const ended = { etaLowSeconds: null, etaHighSeconds: null, sampleCount: 0, fromCatalogue: false };
  if (status === GenerationStatus.COMPLETED)
    return { progress: 1, etaSeconds: 0, estimatedCompletionAt: null, ...ended, etaLowSeconds: 0, etaHighSeconds: 0 };
  if (status !== GenerationStatus.QUEUED && status !== GenerationStatus.GENERATING) {
    return { progress: null, etaSeconds: null, estimatedCompletionAt: null, ...ended };
  }
  const ms = (seconds: number) => seconds * 1000 * timeScale;
  const elapsed = Math.max(0, (now.getTime() - createdAt.getTime()) / 1000 / timeScale);
  // The bar moves linearly to 0.95 at the median time, then creeps towards 0.99: it never goes
  // back, and never claims to be done before the video exists.
  const expected = distribution.quantile(0.5);
  const progress = elapsed < expected ? (0.95 * elapsed) / expected : 0.95 + 0.04 * (1 - Math.exp(-(elapsed - expected) / expected));
  if (distribution.cdf(elapsed) < PLAN_END_QUANTILE) {
    const median = distribution.conditionalQuantile(0.5, elapsed);
    const remaining = (seconds: number) => Math.max(0, Math.ceil((ms(seconds) - ms(elapsed)) / 1000));
    return {
      progress,
      etaSeconds: remaining(median),
      etaLowSeconds: remaining(distribution.conditionalQuantile(0.1, elapsed)),
      etaHighSeconds: remaining(distribution.conditionalQuantile(0.9, elapsed)),
      estimatedCompletionAt: new Date(createdAt.getTime() + ms(median)),
      sampleCount,
      fromCatalogue,
    };
  }
  return { progress, etaSeconds: null, estimatedCompletionAt: null, etaLowSeconds: null, etaHighSeconds: null, sampleCount, fromCatalogue };
}
