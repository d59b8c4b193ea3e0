/**
 * What the vendor's specs cannot say, written by hand and reviewed: makers' display names per id
 * prefix, display names and families where the id reads badly, cross-field rules, the typical
 * times the vendor states on its model pages, and which models the contract documents on the
 * legacy path. Everything else about a model is derived (catalogue-derivation.ts).
 */
import type { ModelKind } from './catalogue-types';

/** The maker behind each id prefix (the vendor's catalogue list misses 28 ids and spells some in lower case). */
export const VENDOR_BY_ID_PREFIX: Readonly<Record<string, string>> = {
  alibaba: 'Alibaba',
  wan: 'Alibaba',
  beeble: 'Beeble',
  blackforestlabs: 'Black Forest Labs',
  bytedance: 'ByteDance',
  google: 'Google',
  veo2: 'Google',
  'veo-3.1-lite-generate-001': 'Google',
  'kling-video': 'Kling',
  klingai: 'Kling',
  krea: 'Krea',
  ltxv: 'LTXV',
  luma: 'Luma',
  magic: 'Magic',
  minimax: 'MiniMax',
  'video-01': 'MiniMax',
  'video-01-live2d': 'MiniMax',
  openai: 'OpenAI',
  pixverse: 'PixVerse',
  runway: 'Runway',
  'runway-gen3': 'Runway',
  gen3a_turbo: 'Runway',
  'sber-ai': 'Sber AI',
  tencent: 'Tencent',
  veed: 'VEED',
  'x-ai': 'xAI',
};

/** A cross-field rule in gateway terms: when `ifPresent` is given, `field` may only take `allowed`. */
export interface FieldRule {
  ifPresent: string;
  field: string;
  allowed: readonly (string | number)[];
  reason: string;
}

/**
 * A typical create-to-completion time, for a video of `forDurationSeconds` (the vendor states
 * them that way), and its observed spread. Longer videos and higher resolutions scale it.
 */
export interface TypicalTime {
  seconds: number;
  rangeSeconds: readonly [number, number];
  forDurationSeconds: number;
}

export interface ModelOverlay {
  displayName?: string;
  family?: string;
  kinds?: readonly ModelKind[];
  rules?: readonly FieldRule[];
  typical?: TypicalTime;
  /** Limits the spec omits but the model enforces, per input (schema keywords merged into the derived schema). */
  limits?: Readonly<Record<string, { maxItems?: number; reason: string }>>;
  /** The contract documents this model on the legacy `/v2/generate/video/google/generation` path. */
  legacyPath?: boolean;
}

/**
 * Used where the vendor states no time: most models finish in one to three minutes, and its own
 * samples poll every 10–15 s for up to 10 minutes. Erring long only delays the first looks.
 */
export const DEFAULT_TYPICAL_TIME: TypicalTime = { seconds: 150, rangeSeconds: [60, 300], forDurationSeconds: 5 };

const LAST_FRAME_NEEDS_8S: FieldRule = {
  ifPresent: 'lastImageUrl',
  field: 'durationSeconds',
  allowed: [8],
  reason: 'a last frame requires an 8 second video',
};

const t = (seconds: number, low: number, high: number, forDurationSeconds: number): TypicalTime => ({
  seconds,
  rangeSeconds: [low, high],
  forDurationSeconds,
});

export const OVERLAY: Readonly<Record<string, ModelOverlay>> = {
  veo2: { displayName: 'Veo 2 (text to video)', family: 'veo2', typical: t(45, 40, 50, 5), legacyPath: true },
  'veo2/image-to-video': { displayName: 'Veo 2 (image to video)', family: 'veo2', typical: t(50, 40, 60, 5), legacyPath: true },
  'google/veo3': { displayName: 'Veo 3 (text to video, audio)', family: 'veo3.0', typical: t(120, 100, 150, 8), legacyPath: true },
  'google/veo-3.0-fast': { displayName: 'Veo 3 Fast (text to video, audio)', family: 'veo3.0', typical: t(85, 50, 120, 8), legacyPath: true },
  'google/veo-3.0-i2v': { displayName: 'Veo 3 (image to video, audio)', family: 'veo3.0', typical: t(65, 40, 90, 8), legacyPath: true },
  'google/veo-3.0-i2v-fast': { displayName: 'Veo 3 Fast (image to video, audio)', family: 'veo3.0', typical: t(60, 45, 75, 8), legacyPath: true },
  'google/veo-3.1-t2v': { displayName: 'Veo 3.1 (text to video)', family: 'veo3.1', typical: t(90, 60, 120, 8) },
  'google/veo-3.1-t2v-fast': { displayName: 'Veo 3.1 Fast (text to video)', family: 'veo3.1', typical: t(60, 40, 80, 8) },
  'google/veo-3.1-i2v': { displayName: 'Veo 3.1 (image to video)', family: 'veo3.1', typical: t(90, 80, 100, 8) },
  'google/veo-3.1-i2v-fast': { displayName: 'Veo 3.1 Fast (image to video)', family: 'veo3.1', typical: t(60, 40, 80, 8) },
  'google/veo-3.1-first-last-image-to-video': {
    displayName: 'Veo 3.1 (first and last frame to video)',
    family: 'veo3.1',
    typical: t(85, 60, 110, 8),
  },
  'google/veo-3.1-first-last-image-to-video-fast': {
    displayName: 'Veo 3.1 Fast (first and last frame to video)',
    family: 'veo3.1',
    typical: t(60, 40, 80, 8),
  },
  'google/veo-3.1-reference-to-video': {
    displayName: 'Veo 3.1 (reference images to video)',
    family: 'veo3.1',
    limits: { imageUrls: { maxItems: 3, reason: 'Google documents up to three reference images for Veo 3.1' } },
    typical: t(85, 60, 110, 8),
  },
  'google/veo3-1-extend-video': { displayName: 'Veo 3.1 (extend a video)', family: 'veo3.1', typical: t(100, 60, 140, 7) },
  'google/veo3-1-fast-extend-video': { displayName: 'Veo 3.1 Fast (extend a video)', family: 'veo3.1', typical: t(78, 45, 110, 7) },
  'google/veo-3-1-lite-generate-preview': {
    displayName: 'Veo 3.1 Lite (preview)',
    family: 'veo3.1-lite',
    rules: [LAST_FRAME_NEEDS_8S],
    typical: t(50, 30, 70, 8),
  },
  'veo-3.1-lite-generate-001': { displayName: 'Veo 3.1 Lite', family: 'veo3.1-lite', typical: t(50, 30, 70, 8) },
  'google/gemini-omni-flash-preview': { displayName: 'Gemini Omni Flash (preview)', family: 'gemini-omni' },
  // Drives a character image or video with a performance video: the specs' required `character` and `reference` are objects.
  'runway/act_two': { kinds: ['AVATAR_LIP_SYNC', 'VIDEO_TO_VIDEO'] },
  // Stated on the vendor's model pages (aimlapi-video-models.md).
  'bytedance/seedance-1-0-lite-t2v': { typical: t(45, 40, 50, 5) },
  'bytedance/seedance-1-0-lite-i2v': { typical: t(45, 40, 50, 5) },
  'bytedance/seedance-1-0-pro-t2v': { typical: t(45, 40, 50, 5) },
  'bytedance/seedance-1-0-pro-i2v': { typical: t(45, 40, 50, 5) },
  'openai/sora-2-t2v': { displayName: 'Sora 2 (text to video)', typical: t(55, 50, 60, 4) },
  'openai/sora-2-i2v': { displayName: 'Sora 2 (image to video)', typical: t(55, 50, 60, 4) },
  'openai/sora-2-pro-t2v': { displayName: 'Sora 2 Pro (text to video)', typical: t(85, 80, 90, 4) },
  'openai/sora-2-pro-i2v': { displayName: 'Sora 2 Pro (image to video)', typical: t(85, 80, 90, 4) },
  'pixverse/v5/text-to-video': { typical: t(35, 30, 40, 5) },
  'veed/fabric-1.0': { typical: t(115, 85, 115, 5) },
  'klingai/v2-master-text-to-video': { typical: t(330, 300, 360, 5) },
  'klingai/v2-master-image-to-video': { typical: t(330, 300, 360, 5) },
  'klingai/v2.1-master-text-to-video': { typical: t(330, 300, 360, 5) },
  'klingai/v2.1-master-image-to-video': { typical: t(330, 300, 360, 5) },
  'kling-video/v2.1/pro/image-to-video': { typical: t(210, 180, 240, 5) },
  'minimax/hailuo-02': { displayName: 'Hailuo 02', typical: t(270, 240, 300, 6) },
};
