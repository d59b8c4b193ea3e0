/**
 * A distribution of generation times (create → COMPLETED, in seconds at time scale 1) as weights
 * over fixed log-spaced bins. Every distribution the gateway uses — a seed from the catalogue's
 * stated range, a learned sketch from finished generations, a blend of both — has this one shape,
 * so blending is adding weights, and the store keeps a sketch as one array.
 */
import type { TypicalTime } from '../upstream/models';

/** Each bin is 5 % wider than the one before: quantiles within a few percent of the time, 205 bins from 1 s to 6 h. */
const BIN_RATIO = 1.05;
const FIRST_EDGE_SECONDS = 1;
export const TIME_BINS = 205;

/** The lower edge of bin `i` in seconds (bin 0 also holds everything under a second). */
function edge(i: number): number {
  return FIRST_EDGE_SECONDS * BIN_RATIO ** i;
}

/** The bin a time falls in, clamped to the first and last. */
export function binOf(seconds: number): number {
  if (!(seconds > FIRST_EDGE_SECONDS)) return 0;
  return Math.min(TIME_BINS - 1, Math.floor(Math.log(seconds / FIRST_EDGE_SECONDS) / Math.log(BIN_RATIO)));
}

/** Weights that are zero everywhere. */
export function emptyWeights(): number[] {
  return new Array<number>(TIME_BINS).fill(0);
}

/**
 * Adds one observation to a recency-weighted sketch, in place: every weight decays by `decay`
 * first, so the sum is the effective sample count and an old regime fades out. The store's upsert
 * (store/sql/generation-timings/upsert.ts) does the same arithmetic in SQL.
 */
export function addSample(weights: number[], seconds: number, decay: number): void {
  for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! * decay;
  weights[binOf(seconds)]! += 1;
}

/** Mass spread over [from, to] seconds, split across the bins it covers in proportion to log-time. */
function spread(weights: number[], from: number, to: number, mass: number): void {
  const lo = Math.log(Math.max(FIRST_EDGE_SECONDS, from));
  const hi = Math.log(Math.max(FIRST_EDGE_SECONDS * BIN_RATIO, to));
  if (hi <= lo) {
    weights[binOf(from)]! += mass;
    return;
  }
  for (let i = binOf(from); i <= binOf(to); i++) {
    const a = Math.max(lo, Math.log(edge(i)));
    const b = Math.min(hi, Math.log(edge(i + 1)));
    if (b > a) weights[i]! += (mass * (b - a)) / (hi - lo);
  }
}

/**
 * The distribution the catalogue's stated time implies: 80 % inside the stated range, 10 % up to a
 * quarter before it, 10 % up to 60 % past it (a stated range is a vendor's claim, and jobs do run
 * late). The conservative default time makes a wide seed.
 */
export function seedWeights(typical: TypicalTime): number[] {
  const [low, high] = typical.rangeSeconds;
  const weights = emptyWeights();
  spread(weights, low * 0.75, low, 0.1);
  spread(weights, low, high, 0.8);
  spread(weights, high, high * 1.6, 0.1);
  return weights;
}

/**
 * Smooths a learned sketch over its neighbouring bins (±10 % of the time, triangular), so a few
 * samples describe a spread rather than spikes, and a schedule built from them covers the gaps.
 */
export function smoothed(weights: readonly number[]): number[] {
  const kernel = [1, 2, 3, 2, 1];
  const half = (kernel.length - 1) / 2;
  const total = kernel.reduce((a, b) => a + b, 0);
  const out = emptyWeights();
  weights.forEach((w, i) => {
    if (w === 0) return;
    kernel.forEach((k, j) => {
      const at = Math.min(TIME_BINS - 1, Math.max(0, i + j - half));
      out[at]! += (w * k) / total;
    });
  });
  return out;
}

/** Cumulative distribution and quantiles over binned weights, interpolated in log-time inside a bin. */
export class TimeDistribution {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(TIME_BINS + 1);
    for (let i = 0; i < TIME_BINS; i++) this.cumulative[i + 1] = this.cumulative[i]! + Math.max(0, weights[i] ?? 0);
    this.total = this.cumulative[TIME_BINS]!;
    if (!(this.total > 0)) throw new Error('a time distribution needs some weight');
  }

  /** P(time ≤ seconds). */
  cdf(seconds: number): number {
    if (seconds <= 0) return 0;
    const i = binOf(seconds);
    const lo = edge(i);
    const within = i === 0 && seconds < lo ? 0 : Math.min(1, Math.log(seconds / lo) / Math.log(BIN_RATIO));
    const below = this.cumulative[i]!;
    const inBin = this.cumulative[i + 1]! - below;
    return Math.min(1, (below + inBin * within) / this.total);
  }

  /** The time by which a fraction `p` (0–1) of generations have completed, in seconds. */
  quantile(p: number): number {
    const target = Math.min(1, Math.max(0, p)) * this.total;
    let i = 0;
    while (i < TIME_BINS - 1 && this.cumulative[i + 1]! < target) i++;
    const inBin = this.cumulative[i + 1]! - this.cumulative[i]!;
    const within = inBin > 0 ? (target - this.cumulative[i]!) / inBin : 0;
    return edge(i) * BIN_RATIO ** within;
  }

  /** The quantile `p` of the time still to come, given `elapsed` seconds without completion. */
  conditionalQuantile(p: number, elapsed: number): number {
    const done = this.cdf(elapsed);
    if (done >= 1) return elapsed;
    return Math.max(elapsed, this.quantile(done + p * (1 - done)));
  }
}
