/**
 * The time left of a running generation in words, from the estimate the API gives: the median time
 * left, its 10–90 % range, and whether it still leans on the catalogue's stated time. Events come only
 * when something changes, so the page counts down from the last one; once the clock passes the high
 * end, the honest answer is that this one takes longer than usual.
 */
import type { GenerationProgressFragment as Generation } from '../generated/graphql';

export type Estimate = Pick<
  Generation,
  'status' | 'estimatedCompletionAt' | 'etaSeconds' | 'etaLowSeconds' | 'etaHighSeconds' | 'etaSampleCount' | 'etaFromCatalogue'
>;

export interface TimeLeft {
  /** E.g. "About 1 min 20 s left, between 50 s and 2 min". */
  text: string;
  /** Why the figure is rough, when the estimate still leans on the catalogue; empty otherwise. */
  basis: string;
}

/** The time left of a generation still in flight, at `now` (ms). */
export function timeLeft(g: Estimate, now = Date.now()): TimeLeft {
  return { text: remaining(g, now), basis: basisOf(g) };
}

function remaining(g: Estimate, now: number): string {
  // The API gives no estimate once a job is past nearly every time seen for its kind.
  if (!g.estimatedCompletionAt || g.etaSeconds == null) return g.status === 'QUEUED' ? 'Waiting for the video service…' : 'Taking longer than usual…';
  const median = Date.parse(g.estimatedCompletionAt);
  const left = Math.ceil((median - now) / 1000);
  if (g.etaLowSeconds == null || g.etaHighSeconds == null) {
    return left > 0 ? `About ${exact(left)} left` : 'Taking a little longer than usual…';
  }
  // The range is relative to when the estimate was made: anchor it on the median's time, like the bar.
  const high = Math.ceil((median + (g.etaHighSeconds - g.etaSeconds) * 1000 - now) / 1000);
  const low = Math.ceil((median - (g.etaSeconds - g.etaLowSeconds) * 1000 - now) / 1000);
  if (high <= 0) return 'Taking longer than usual…';
  if (left <= 0) return `Any moment now: within ${rounded(high)}`;
  const text = `About ${exact(left)} left`;
  if (low > 0 && rounded(low) !== rounded(high)) return `${text}, between ${rounded(low)} and ${rounded(high)}`;
  if (low <= 0 && high > left) return `${text}, at most ${rounded(high)}`;
  return text;
}

function basisOf(g: Estimate): string {
  if (!g.etaFromCatalogue) return '';
  const seen = Math.round(g.etaSampleCount);
  if (seen < 1) return "Rough estimate: from the model's stated time";
  return `Rough estimate: from the model's stated time and ${seen} finished video${seen === 1 ? '' : 's'} like this`;
}

/** Seconds as "45 s" or "1 min 23 s": the figure that counts down. */
function exact(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const s = seconds % 60;
  return `${Math.floor(seconds / 60)} min${s ? ` ${s} s` : ''}`;
}

/** Seconds for a range's ends: exact under 20 s, then to 5 s under a minute, 10 s under ten minutes, then whole minutes. */
function rounded(seconds: number): string {
  if (seconds < 20) return `${seconds} s`;
  if (seconds < 60) return `${Math.round(seconds / 5) * 5} s`;
  if (seconds < 600) return exact(Math.round(seconds / 10) * 10);
  return `${Math.round(seconds / 60)} min`;
}
