/**
 * Expectations about how long a generation takes, and the poll schedule and progress estimate
 * derived from them. Pure functions of time, so they are easy to test and to benchmark.
 */
import { DEFAULT_TYPICAL_TIME } from '../upstream/catalogue-overlay';
import { findModel, type TypicalTime } from '../upstream/models';
import { GenerationStatus, type GenerationInput } from '../model/generation';

/**
 * How much longer than 720p a resolution takes: the vendor's stated times grow by a third to a
 * half from 720p to 1080p (PixVerse 35 s → 75 s is the outlier); pixels alone would say 2.25×.
 */
const RESOLUTION_FACTOR: Readonly<Record<string, number>> = {
  '360p': 0.8,
  '480p': 0.85,
  '540p': 0.9,
  '580p': 0.9,
  '720p': 1,
  '768p': 1,
  hd: 1,
  '1080p': 1.4,
  fhd: 1.4,
  '1440p': 1.8,
  '2k': 1.8,
  '2160p': 2.5,
  '4k': 2.5,
};

/**
 * The typical time of this request: the model's stated time (or the conservative default),
 * scaled by the requested duration against the duration it was stated for, and by resolution.
 * A withdrawn or unknown model gets the default, so old rows keep being polled.
 */
export function typicalTimeFor(input: Pick<GenerationInput, 'model' | 'durationSeconds' | 'resolution'>): TypicalTime {
  const model = findModel(input.model);
  const base = model?.typical ?? DEFAULT_TYPICAL_TIME;
  const duration = input.durationSeconds ?? base.forDurationSeconds;
  // Part of the time is fixed (queueing, set-up), so a 10 s video takes less than twice a 5 s one.
  const byDuration = 0.3 + 0.7 * Math.max(0.2, duration / base.forDurationSeconds);
  const byResolution = input.resolution ? (RESOLUTION_FACTOR[input.resolution.toLowerCase()] ?? 1) : 1;
  const factor = byDuration * byResolution;
  if (factor === 1) return base;
  const [low, high] = base.rangeSeconds;
  return {
    seconds: base.seconds * factor,
    rangeSeconds: [low * factor, high * factor],
    forDurationSeconds: duration,
  };
}

export interface TimingOptions {
  /** Multiplies every upstream time (1 for the real upstream; the simulator's scale otherwise). */
  timeScale: number;
  /** Shortest gap between two polls of one generation, in ms at time scale 1. */
  minIntervalMs: number;
  /** Longest gap between two polls of one generation, in ms at time scale 1. */
  maxIntervalMs: number;
}

/**
 * Gap between polls while a generation is inside its model's typical range, in ms at time scale 1.
 * The vendor's fixed 10 s loop notices a completion 0–10 s late (p95 ≈ 9.5 s); polling every 4.5 s
 * where completions actually happen keeps our p95 under half of that.
 */
export const IN_RANGE_INTERVAL_MS = 4_500;
/** Looks inside a typical range at most, before the gap widens past IN_RANGE_INTERVAL_MS. */
const IN_RANGE_LOOKS = 20;
/** The widest in-range gap, in ms at time scale 1: the vendor's own fixed loop. */
const WIDE_RANGE_INTERVAL_MS = 10_000;

/**
 * Adaptive poll schedule. The vendor polls every 10–15 s from the start; most of those polls only
 * learn "still generating". A model's completions fall inside its typical range, so we look once
 * halfway to the range, then densely inside it (the maximum interval caps the gaps before it),
 * then back off if it runs long. The number of polls then grows with the range's width, not with
 * the model's whole duration.
 */
export class PollSchedule {
  constructor(private readonly options: TimingOptions) {}

  /** Expected create-to-completion time, in ms (scaled). */
  expectedMs(typical: TypicalTime): number {
    return typical.seconds * 1000 * this.options.timeScale;
  }

  /**
   * When to poll next, given when the generation was created. With a `deadline` that comes before
   * that time, the poll moves to the deadline's eve (one minimum gap before it), once: a sparse
   * schedule must not let a generation time out without a look.
   */
  nextPollAt(typical: TypicalTime, createdAt: Date, now: Date, deadline?: Date): Date {
    const scale = this.options.timeScale;
    const [low, high] = typical.rangeSeconds.map((s) => s * 1000 * scale) as [number, number];
    // A wide range (a guessed time) would take too many dense looks: spread them, up to the vendor's own 10 s.
    const width = typical.rangeSeconds[1] - typical.rangeSeconds[0];
    const dense = Math.min(WIDE_RANGE_INTERVAL_MS, Math.max(IN_RANGE_INTERVAL_MS, (width * 1000) / IN_RANGE_LOOKS)) * scale;
    const elapsed = now.getTime() - createdAt.getTime();
    // One early look, halfway to the range, shows clients the job left the queue (GENERATING) however
    // late a poll runs; it costs no more than a look at the range's edge, which never finds it done.
    const firstLook = low / 2;
    let gap: number;
    if (elapsed < firstLook) {
      gap = firstLook - elapsed;
    } else if (elapsed < low) {
      // Nothing is expected before the range: sleep until half an interval into it.
      gap = low + dense / 2 - elapsed;
    } else if (elapsed < high) {
      gap = dense;
    } else {
      // Overdue: the longer it runs, the less likely the next second matters.
      gap = dense + 0.1 * (elapsed - high);
    }
    const next = now.getTime() + this.clamp(gap);
    const eve = deadline ? deadline.getTime() - this.options.minIntervalMs * scale : Infinity;
    return new Date(next > eve && now.getTime() < eve ? eve : next);
  }

  /** When to retry after `failures` consecutive failed polls: exponential with full jitter. */
  retryAt(failures: number, now: Date, random = Math.random): Date {
    const base = this.options.minIntervalMs * this.options.timeScale;
    const ceiling = Math.min(this.options.maxIntervalMs * this.options.timeScale, base * 2 ** Math.min(failures, 10));
    return new Date(now.getTime() + this.clamp(base + random() * (ceiling - base)));
  }

  private clamp(ms: number): number {
    const { minIntervalMs, maxIntervalMs, timeScale } = this.options;
    return Math.min(maxIntervalMs * timeScale, Math.max(minIntervalMs * timeScale, ms));
  }
}

export interface ProgressEstimate {
  /** 0 to 1; null once the generation ended without a video. */
  progress: number | null;
  /** Seconds until the expected completion; null when ended or overdue. */
  etaSeconds: number | null;
  estimatedCompletionAt: Date | null;
}

/**
 * A progress estimate from elapsed time against the model's typical time. The upstream reports no
 * progress of its own, so this is an estimate; it never reaches 1 before the video exists.
 */
export function estimateProgress(status: GenerationStatus, createdAt: Date, expectedMs: number, now: Date): ProgressEstimate {
  if (status === GenerationStatus.COMPLETED) return { progress: 1, etaSeconds: 0, estimatedCompletionAt: null };
  if (status !== GenerationStatus.QUEUED && status !== GenerationStatus.GENERATING) {
    return { progress: null, etaSeconds: null, estimatedCompletionAt: null };
  }
  const elapsed = Math.max(0, now.getTime() - createdAt.getTime());
  if (elapsed < expectedMs) {
    return {
      progress: Math.min(0.95, (0.95 * elapsed) / expectedMs),
      etaSeconds: Math.ceil((expectedMs - elapsed) / 1000),
      estimatedCompletionAt: new Date(createdAt.getTime() + expectedMs),
    };
  }
  // Overdue: creep towards 0.99 so a progress bar keeps moving without claiming to be done.
  const overdue = (elapsed - expectedMs) / expectedMs;
  return { progress: 0.95 + 0.04 * (1 - Math.exp(-overdue)), etaSeconds: null, estimatedCompletionAt: null };
}
