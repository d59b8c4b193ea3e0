/**
 * The catalogue's stated time for one request: the model's figure scaled to the requested clip
 * length and resolution. The seed of every learned time distribution (timing-learner.ts).
 */
import { DEFAULT_TYPICAL_TIME } from '../upstream/catalogue-overlay';
import { findModel, type TypicalTime } from '../upstream/models';
import type { GenerationInput } from '../model/generation';

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
