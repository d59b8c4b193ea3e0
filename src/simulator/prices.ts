/**
 * What simulated generations cost. The vendor documents no per-model prices (contract §9): these
 * are third-party ballparks in USD per second of video, good enough for usage accounting and
 * quotas to see plausible, model-dependent numbers. The real upstream reports its own usage.
 */

/** 2,000,000 credits per US dollar: every credits/USD pair in the vendor's examples (contract §9). */
export const CREDITS_PER_USD = 2_000_000;

export interface Usage {
  credits_used: number;
  usd_spent: number;
}

/** Per-model prices where a third-party figure exists (contract §9), in USD per second. */
const MODEL_USD_PER_SECOND: Readonly<Record<string, number>> = {
  veo2: 0.5,
  'veo2/image-to-video': 0.5,
  'google/veo3': 0.26,
  'google/veo-3.0-fast': 0.105,
  'google/veo-3.0-i2v': 0.455,
  'google/veo-3.0-i2v-fast': 0.2,
  'google/veo-3.1-t2v': 0.4,
  'google/veo-3.1-t2v-fast': 0.13,
  'google/veo-3.1-i2v': 0.4,
  'google/veo-3.1-i2v-fast': 0.13,
  'google/veo-3.1-first-last-image-to-video': 0.4,
  'google/veo-3.1-first-last-image-to-video-fast': 0.13,
  'google/veo-3.1-reference-to-video': 0.4,
  'google/veo3-1-extend-video': 0.4,
  'google/veo3-1-fast-extend-video': 0.13,
  'google/veo-3-1-lite-generate-preview': 0.104,
  'veo-3.1-lite-generate-001': 0.104,
  'openai/sora-2-t2v': 0.1,
  'openai/sora-2-i2v': 0.1,
  'openai/sora-2-pro-t2v': 0.3,
  'openai/sora-2-pro-i2v': 0.3,
};

/** Per-vendor ballparks for every other model, by id prefix (first match wins), in USD per second. */
const VENDOR_USD_PER_SECOND: readonly (readonly [RegExp, number])[] = [
  [/^(google\/|veo)/, 0.25],
  [/^(klingai\/|kling-video\/)/, 0.1],
  [/^(alibaba\/|wan\/)/, 0.08],
  [/^bytedance\//, 0.06],
  [/^(minimax\/|video-01)/, 0.08],
  [/^pixverse\//, 0.07],
  [/^blackforestlabs\//, 0.1],
  [/^(runway|gen3a_turbo)/, 0.1],
  [/^luma\//, 0.1],
  [/^openai\//, 0.1],
  [/^x-ai\//, 0.05],
  [/^ltxv\//, 0.04],
  [/^(magic|krea|sber-ai)\//, 0.05],
  [/^(beeble|veed)\//, 0.08],
  [/^tencent\//, 0.03],
];

/** For a vendor this table has not met yet. */
const DEFAULT_USD_PER_SECOND = 0.1;

export function usdPerSecond(modelId: string): number {
  return MODEL_USD_PER_SECOND[modelId] ?? VENDOR_USD_PER_SECOND.find(([prefix]) => prefix.test(modelId))?.[1] ?? DEFAULT_USD_PER_SECOND;
}

/** Usage of `seconds` of video, as create and completed-poll answers report it. */
export function usageFor(modelId: string, seconds: number): Usage {
  const usd = round(usdPerSecond(modelId) * seconds, 6);
  return { credits_used: Math.round(usd * CREDITS_PER_USD), usd_spent: usd };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
