/**
 * The Google Veo model catalogue, as data.
 *
 * Everything the gateway knows about a model's inputs lives here, in the upstream's own wire
 * terms (field names, enum values and their letter case), taken from the AI/ML API contract
 * (`shared/upstream/aimlapi-video-contract.md` §4). The request validator, the GraphQL schema
 * (`videoModels`, the model enum) and the simulator all read this table, so adding a model is
 * adding an entry here.
 */

export type ModelFamily = 'veo2' | 'veo3.0' | 'veo3.1' | 'veo3.1-lite';

export type ModelKind =
  | 'TEXT_TO_VIDEO'
  | 'IMAGE_TO_VIDEO'
  | 'FIRST_LAST_FRAME_TO_VIDEO'
  | 'REFERENCE_TO_VIDEO'
  | 'EXTEND_VIDEO'
  /** Text to video, optionally guided by a first and/or last frame (the Lite models). */
  | 'TEXT_OR_IMAGE_TO_VIDEO';

export interface WireField {
  type: 'string' | 'integer' | 'boolean' | 'string[]';
  /** Allowed values, in the wire's exact spelling (e.g. `720P` vs `720p`). */
  enum?: readonly (string | number)[];
  /** The upstream's documented default, applied upstream when the field is omitted. */
  default?: string | number | boolean;
  /** A public http(s) URL or a base64 data URI of the given media type. */
  media?: 'image' | 'video';
  /** Enum matching ignores letter case upstream (documented for `provider`). */
  caseInsensitive?: boolean;
  /** Upper bound on array length where we enforce one. */
  maxItems?: number;
}

/** A cross-field rule: when `ifPresent` is given, `field` may only take `allowed`. */
export interface FieldRule {
  ifPresent: string;
  field: string;
  allowed: readonly (string | number)[];
  reason: string;
}

export interface ModelSpec {
  /** The upstream `model` value. */
  id: string;
  /** The GraphQL enum value clients use. */
  graphqlName: string;
  displayName: string;
  family: ModelFamily;
  kind: ModelKind;
  /** Wire fields required besides `model` and `prompt`. */
  required: readonly string[];
  /** Every optional or required wire field besides `model` and `prompt`. */
  fields: Readonly<Record<string, WireField>>;
  rules?: readonly FieldRule[];
  /** Typical wall time from create to completion, in seconds, at the default duration. */
  typicalSeconds: number;
  /** The observed spread of that time, in seconds (the simulator draws from it). */
  typicalRangeSeconds: readonly [number, number];
  /** Whether the contract documents this model on the legacy `/v2/generate/video/google/generation` path. */
  legacyPath: boolean;
  /** Simulator price in USD per second of video (third-party ballparks; the real upstream reports its own). */
  simulatedUsdPerSecond: number;
}

const ASPECT = { type: 'string', enum: ['16:9', '9:16'] } as const;
const PROVIDER: WireField = { type: 'string', enum: ['auto', 'google', 'fal'], caseInsensitive: true, default: 'auto' };
const IMAGE: WireField = { type: 'string', media: 'image' };
const VIDEO: WireField = { type: 'string', media: 'video' };
const AUDIO: WireField = { type: 'boolean', default: true };
const SEED: WireField = { type: 'integer' };
const TEXT: WireField = { type: 'string' };
const ENHANCE: WireField = { type: 'boolean', default: true };
const RES_UPPER: WireField = { type: 'string', enum: ['720P', '1080P'], default: '720P' };
const RES_LOWER: WireField = { type: 'string', enum: ['720p', '1080p'], default: '1080p' };
const DUR_4_6_8: WireField = { type: 'integer', enum: [4, 6, 8], default: 8 };

const veo2Fields = {
  duration: { type: 'integer', enum: [5, 6, 7, 8], default: 5 },
  aspect_ratio: ASPECT,
  negative_prompt: TEXT,
  seed: SEED,
  enhance_prompt: ENHANCE,
} satisfies Record<string, WireField>;

const veo30Fields = {
  duration: DUR_4_6_8,
  aspect_ratio: ASPECT,
  resolution: RES_UPPER,
  negative_prompt: TEXT,
  seed: SEED,
  enhance_prompt: ENHANCE,
  generate_audio: AUDIO,
} satisfies Record<string, WireField>;

const veo31ImageFields = {
  aspect_ratio: ASPECT,
  duration: DUR_4_6_8,
  resolution: RES_LOWER,
  generate_audio: AUDIO,
  provider: PROVIDER,
} satisfies Record<string, WireField>;

const veo31TextFields = {
  ...veo31ImageFields,
  seed: SEED,
  auto_fix: { type: 'boolean', default: true },
  negative_prompt: TEXT,
  enhance_prompt: ENHANCE,
} satisfies Record<string, WireField>;

const extendFields = {
  video_url: VIDEO,
  aspect_ratio: { type: 'string', enum: ['auto', '16:9', '9:16'], default: 'auto' },
  duration: { type: 'integer', enum: [7], default: 7 },
  resolution: { type: 'string', enum: ['720p'], default: '720p' },
  generate_audio: AUDIO,
  auto_fix: { type: 'boolean', default: false },
  provider: PROVIDER,
} satisfies Record<string, WireField>;

export const MODELS: readonly ModelSpec[] = [
  {
    id: 'veo2',
    graphqlName: 'VEO2',
    displayName: 'Veo 2 (text to video)',
    family: 'veo2',
    kind: 'TEXT_TO_VIDEO',
    required: [],
    fields: veo2Fields,
    typicalSeconds: 45,
    typicalRangeSeconds: [40, 50],
    legacyPath: true,
    simulatedUsdPerSecond: 0.5,
  },
  {
    id: 'veo2/image-to-video',
    graphqlName: 'VEO2_IMAGE_TO_VIDEO',
    displayName: 'Veo 2 (image to video)',
    family: 'veo2',
    kind: 'IMAGE_TO_VIDEO',
    required: ['image_url'],
    fields: { image_url: IMAGE, tail_image_url: IMAGE, ...veo2Fields },
    typicalSeconds: 50,
    typicalRangeSeconds: [40, 60],
    legacyPath: true,
    simulatedUsdPerSecond: 0.5,
  },
  {
    id: 'google/veo3',
    graphqlName: 'VEO3',
    displayName: 'Veo 3 (text to video, audio)',
    family: 'veo3.0',
    kind: 'TEXT_TO_VIDEO',
    required: [],
    fields: veo30Fields,
    typicalSeconds: 120,
    typicalRangeSeconds: [100, 150],
    legacyPath: true,
    simulatedUsdPerSecond: 0.26,
  },
  {
    id: 'google/veo-3.0-fast',
    graphqlName: 'VEO3_FAST',
    displayName: 'Veo 3 Fast (text to video, audio)',
    family: 'veo3.0',
    kind: 'TEXT_TO_VIDEO',
    required: [],
    fields: veo30Fields,
    typicalSeconds: 85,
    typicalRangeSeconds: [50, 120],
    legacyPath: true,
    simulatedUsdPerSecond: 0.105,
  },
  {
    id: 'google/veo-3.0-i2v',
    graphqlName: 'VEO3_IMAGE_TO_VIDEO',
    displayName: 'Veo 3 (image to video, audio)',
    family: 'veo3.0',
    kind: 'IMAGE_TO_VIDEO',
    required: ['image_url'],
    fields: { image_url: IMAGE, ...veo30Fields },
    typicalSeconds: 65,
    typicalRangeSeconds: [40, 90],
    legacyPath: true,
    simulatedUsdPerSecond: 0.455,
  },
  {
    id: 'google/veo-3.0-i2v-fast',
    graphqlName: 'VEO3_IMAGE_TO_VIDEO_FAST',
    displayName: 'Veo 3 Fast (image to video, audio)',
    family: 'veo3.0',
    kind: 'IMAGE_TO_VIDEO',
    required: ['image_url'],
    fields: { image_url: IMAGE, ...veo30Fields },
    typicalSeconds: 60,
    typicalRangeSeconds: [45, 75],
    legacyPath: true,
    simulatedUsdPerSecond: 0.2,
  },
  {
    id: 'google/veo-3.1-t2v',
    graphqlName: 'VEO3_1_TEXT_TO_VIDEO',
    displayName: 'Veo 3.1 (text to video)',
    family: 'veo3.1',
    kind: 'TEXT_TO_VIDEO',
    required: [],
    fields: veo31TextFields,
    typicalSeconds: 90,
    typicalRangeSeconds: [60, 120],
    legacyPath: false,
    simulatedUsdPerSecond: 0.4,
  },
  {
    id: 'google/veo-3.1-t2v-fast',
    graphqlName: 'VEO3_1_TEXT_TO_VIDEO_FAST',
    displayName: 'Veo 3.1 Fast (text to video)',
    family: 'veo3.1',
    kind: 'TEXT_TO_VIDEO',
    required: [],
    fields: veo31TextFields,
    typicalSeconds: 60,
    typicalRangeSeconds: [40, 80],
    legacyPath: false,
    simulatedUsdPerSecond: 0.13,
  },
  {
    id: 'google/veo-3.1-i2v',
    graphqlName: 'VEO3_1_IMAGE_TO_VIDEO',
    displayName: 'Veo 3.1 (image to video)',
    family: 'veo3.1',
    kind: 'IMAGE_TO_VIDEO',
    required: ['image_url'],
    fields: { image_url: IMAGE, ...veo31ImageFields },
    typicalSeconds: 90,
    typicalRangeSeconds: [80, 100],
    legacyPath: false,
    simulatedUsdPerSecond: 0.4,
  },
  {
    id: 'google/veo-3.1-i2v-fast',
    graphqlName: 'VEO3_1_IMAGE_TO_VIDEO_FAST',
    displayName: 'Veo 3.1 Fast (image to video)',
    family: 'veo3.1',
    kind: 'IMAGE_TO_VIDEO',
    required: ['image_url'],
    fields: { image_url: IMAGE, ...veo31ImageFields },
    typicalSeconds: 60,
    typicalRangeSeconds: [40, 80],
    legacyPath: false,
    simulatedUsdPerSecond: 0.13,
  },
  {
    id: 'google/veo-3.1-first-last-image-to-video',
    graphqlName: 'VEO3_1_FIRST_LAST_FRAME',
    displayName: 'Veo 3.1 (first and last frame to video)',
    family: 'veo3.1',
    kind: 'FIRST_LAST_FRAME_TO_VIDEO',
    required: ['image_url', 'last_image_url'],
    fields: { image_url: IMAGE, last_image_url: IMAGE, ...veo31ImageFields },
    typicalSeconds: 85,
    typicalRangeSeconds: [60, 110],
    legacyPath: false,
    simulatedUsdPerSecond: 0.4,
  },
  {
    id: 'google/veo-3.1-first-last-image-to-video-fast',
    graphqlName: 'VEO3_1_FIRST_LAST_FRAME_FAST',
    displayName: 'Veo 3.1 Fast (first and last frame to video)',
    family: 'veo3.1',
    kind: 'FIRST_LAST_FRAME_TO_VIDEO',
    required: ['image_url', 'last_image_url'],
    fields: { image_url: IMAGE, last_image_url: IMAGE, ...veo31ImageFields },
    typicalSeconds: 60,
    typicalRangeSeconds: [40, 80],
    legacyPath: false,
    simulatedUsdPerSecond: 0.13,
  },
  {
    id: 'google/veo-3.1-reference-to-video',
    graphqlName: 'VEO3_1_REFERENCE_TO_VIDEO',
    displayName: 'Veo 3.1 (reference images to video)',
    family: 'veo3.1',
    kind: 'REFERENCE_TO_VIDEO',
    required: ['image_urls'],
    fields: {
      // The contract states no maximum; Google documents up to three reference images for Veo 3.1.
      image_urls: { type: 'string[]', media: 'image', maxItems: 3 },
      duration: { type: 'integer', enum: [8] },
      resolution: RES_LOWER,
      generate_audio: AUDIO,
      provider: PROVIDER,
    },
    typicalSeconds: 85,
    typicalRangeSeconds: [60, 110],
    legacyPath: false,
    simulatedUsdPerSecond: 0.4,
  },
  {
    id: 'google/veo3-1-extend-video',
    graphqlName: 'VEO3_1_EXTEND_VIDEO',
    displayName: 'Veo 3.1 (extend a video)',
    family: 'veo3.1',
    kind: 'EXTEND_VIDEO',
    required: ['video_url'],
    fields: extendFields,
    typicalSeconds: 100,
    typicalRangeSeconds: [60, 140],
    legacyPath: false,
    simulatedUsdPerSecond: 0.4,
  },
  {
    id: 'google/veo3-1-fast-extend-video',
    graphqlName: 'VEO3_1_EXTEND_VIDEO_FAST',
    displayName: 'Veo 3.1 Fast (extend a video)',
    family: 'veo3.1',
    kind: 'EXTEND_VIDEO',
    required: ['video_url'],
    fields: extendFields,
    typicalSeconds: 78,
    typicalRangeSeconds: [45, 110],
    legacyPath: false,
    simulatedUsdPerSecond: 0.13,
  },
  {
    id: 'google/veo-3-1-lite-generate-preview',
    graphqlName: 'VEO3_1_LITE_PREVIEW',
    displayName: 'Veo 3.1 Lite (preview)',
    family: 'veo3.1-lite',
    kind: 'TEXT_OR_IMAGE_TO_VIDEO',
    required: [],
    fields: { image_url: IMAGE, last_image_url: IMAGE, ...veo31ImageFields },
    rules: [
      { ifPresent: 'last_image_url', field: 'duration', allowed: [8], reason: 'a last frame requires an 8 second video' },
    ],
    typicalSeconds: 50,
    typicalRangeSeconds: [30, 70],
    legacyPath: false,
    simulatedUsdPerSecond: 0.104,
  },
  {
    // The contract's JSON enum spells this id without `google/` (the page text has it with); we send the enum's.
    id: 'veo-3.1-lite-generate-001',
    graphqlName: 'VEO3_1_LITE',
    displayName: 'Veo 3.1 Lite',
    family: 'veo3.1-lite',
    kind: 'TEXT_OR_IMAGE_TO_VIDEO',
    required: [],
    fields: {
      image_url: IMAGE,
      last_image_url: IMAGE,
      aspect_ratio: ASPECT,
      resolution: RES_UPPER,
      duration: DUR_4_6_8,
      generate_audio: AUDIO,
      person_generation: { type: 'string', enum: ['dont_allow', 'allow_adult'], default: 'allow_adult' },
    },
    typicalSeconds: 50,
    typicalRangeSeconds: [30, 70],
    legacyPath: false,
    simulatedUsdPerSecond: 0.104,
  },
];

const byId = new Map(MODELS.map((m) => [m.id, m]));

/** The model with this upstream id, or undefined. */
export function findModel(id: string): ModelSpec | undefined {
  return byId.get(id);
}
