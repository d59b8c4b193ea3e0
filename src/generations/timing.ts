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
 * Adaptive poll schedule. The vendor polls every 10–15 s from the start; most of those polls only
 * learn "still generating". Completion clusters around the model's typical time, so we poll
 * sparsely before it and densely around it, then back off again if it runs long.
 */
export class PollSchedule {
  constructor(private readonly options: TimingOptions) {}

  /** Expected create-to-completion time of this model, in ms (scaled). */
  expectedMs(model: ModelSpec): number {
    return model.typicalSeconds * 1000 * this.options.timeScale;
  }

  /** When to poll next, given when the generation was created. */
  nextPollAt(model: ModelSpec, createdAt: Date, now: Date): Date {
    const expected = this.expectedMs(model);
    const elapsed = now.getTime() - createdAt.getTime();
    const windowStart = 0.7 * expected;
    const windowEnd = 1.3 * expected;
    let gap: number;
    if (elapsed < 0.15 * expected) {
      // One early poll shows the client that the job left the queue.
      gap = 0.15 * expected - elapsed;
    } else if (elapsed < windowStart) {
      gap = windowStart - elapsed;
    } else if (elapsed < windowEnd) {
      gap = 0.05 * expected;
    } else {
      // Overdue: the longer it runs, the less likely the next second matters.
      gap = 0.1 * (elapsed - windowEnd) + 0.05 * expected;
    }
    return new Date(now.getTime() + this.clamp(gap));
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
