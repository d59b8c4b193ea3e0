/**
 * What an owner has used: generations by status, seconds of video delivered, and what the upstream
 * charged (its `meta.usage`, kept on each generation).
 */
import type { UsageGroup } from '../store/store';
import { findModel } from '../upstream/models';
import { GenerationStatus } from '../model/generation';
import { allowedValues, defaultValue } from './validation';

export interface UsageSummary {
  /** Start of the period (inclusive); null means since the first generation. */
  since: Date | null;
  /** Generations created in the period. */
  generations: number;
  /** Count per status; every status is present, 0 when none. */
  byStatus: Record<GenerationStatus, number>;
  /** Seconds of video of the COMPLETED generations (requested duration, or the model's default). */
  videoSeconds: number;
  /** Sum of the upstream's `credits_used`. */
  credits: number;
  /** Sum of the upstream's `usd_spent` (or credits at 2,000,000 per US$, see the wire parser). */
  usd: number;
}

export function summarizeUsage(groups: readonly UsageGroup[], since: Date | null): UsageSummary {
  const byStatus = Object.fromEntries(Object.values(GenerationStatus).map((s) => [s, 0])) as Record<GenerationStatus, number>;
  let generations = 0;
  let videoSeconds = 0;
  let credits = 0;
  let usd = 0;
  for (const g of groups) {
    generations += g.count;
    byStatus[g.status] = (byStatus[g.status] ?? 0) + g.count;
    credits += g.credits ?? 0;
    usd += g.usd ?? 0;
    if (g.status === GenerationStatus.COMPLETED) videoSeconds += g.count * (g.durationSeconds ?? defaultSeconds(g.model));
  }
  // Sums of float dollars pick up binary noise (0.1 + 0.2); cents to 6 places are plenty.
  return { since, generations, byStatus, videoSeconds, credits: Math.round(credits), usd: Math.round(usd * 1e6) / 1e6 };
}

/** The model's default duration (0 for a model without one: its length is not ours to know). */
function defaultSeconds(modelId: string): number {
  const model = findModel(modelId);
  if (!model) return 0;
  const value = defaultValue(model, 'durationSeconds');
  if (typeof value === 'number') return value;
  const only = allowedValues(model, 'durationSeconds');
  return only?.length === 1 && typeof only[0] === 'number' ? only[0] : 0;
}
