/**
 * Expectations about how long a generation takes, and the poll schedule and progress estimate
 * derived from them. Pure functions of time, so they are easy to test and to benchmark.
 */
import type { ModelSpec } from '../upstream/models';
import { GenerationStatus } from './types';

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

/**
 * Adaptive poll schedule. The vendor polls every 10–15 s from the start; most of those polls only
 * learn "still generating". A model's completions fall inside its typical range, so we look once
 * halfway to the range, then densely inside it (the maximum interval caps the gaps before it),
 * then back off if it runs long. The number of polls then grows with the range's width, not with
 * the model's whole duration.
 */
export class PollSchedule {
  constructor(private readonly options: TimingOptions) {}

  /** Expected create-to-completion time of this model, in ms (scaled). */
  expectedMs(model: ModelSpec): number {
    return model.typicalSeconds * 1000 * this.options.timeScale;
  }

  /**
   * When to poll next, given when the generation was created. With a `deadline` that comes before
   * that time, the poll moves to the deadline's eve (one minimum gap before it), once: a sparse
   * schedule must not let a generation time out without a look.
   */
  nextPollAt(model: ModelSpec, createdAt: Date, now: Date, deadline?: Date): Date {
    const scale = this.options.timeScale;
    const [low, high] = model.typicalRangeSeconds.map((s) => s * 1000 * scale) as [number, number];
    const dense = IN_RANGE_INTERVAL_MS * scale;
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
export function estimateProgress(
  status: GenerationStatus,
  createdAt: Date,
  expectedMs: number,
  now: Date,
): ProgressEstimate {
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
