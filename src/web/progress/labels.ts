/**
 * Words for people where the schema only has codes or vendor wording. The form takes everything
 * else from `videoModels` (which inputs a model takes, their types, limits, defaults and the
 * vendor's description); this table only gives the shared fields friendlier names, a grouping and
 * names for enum values. An input missing here is shown under its humanised name with the
 * vendor's description as its hint.
 */

/** Where a field appears in the form: the options people change most first, the rest folded away. */
export type FieldGroup = 'video' | 'media' | 'advanced';

export interface FieldWords {
  label: string;
  /** One short sentence under the control, in place of the vendor's description. */
  hint?: string;
  group?: FieldGroup;
}

/** The shared typed fields of the create input. */
export const FIELDS: Record<string, FieldWords> = {
  durationSeconds: { label: 'Length', group: 'video' },
  aspectRatio: { label: 'Shape', group: 'video' },
  resolution: { label: 'Resolution', group: 'video' },
  generateAudio: { label: 'Sound', hint: 'A soundtrack made with the video; it may cost more.', group: 'video' },
  imageUrl: { label: 'First frame', hint: 'A picture the video starts from: an https:// link or a data:image URI.' },
  lastImageUrl: { label: 'Last frame', hint: 'A picture the video ends on: an https:// link or a data:image URI.' },
  imageUrls: { label: 'Reference pictures', hint: 'Links to pictures of the subject.' },
  videoUrl: { label: 'Source video', hint: 'An https:// link to the clip, or a data:video URI.' },
  audioUrl: { label: 'Sound file', hint: 'An https:// link to the audio (speech, music), or a data:audio URI.' },
  negativePrompt: { label: 'Leave out', hint: 'Things the video should not show.' },
  seed: { label: 'Seed', hint: 'The same seed and prompt give similar results.' },
  enhancePrompt: { label: 'Improve my prompt', hint: 'Let the service rewrite the prompt for quality.' },
  autoFix: { label: 'Fix policy problems', hint: 'Let the service rewrite a prompt its content checks refuse.' },
  personGeneration: { label: 'People' },
  provider: { label: 'Runs on', hint: 'Which service runs the model.' },
  watermark: { label: 'Watermark', hint: 'Whether the video carries a visible watermark.' },
  cfgScale: { label: 'Prompt strength', hint: 'How closely the video follows the prompt.' },
};

export const GROUPS: Record<FieldGroup, string> = {
  video: 'Video',
  media: 'Pictures, video and sound',
  advanced: 'More options',
};

/** Names for enum values (by their GraphQL name); a value missing here is shown as the model lists it. */
const VALUES: Record<string, Record<string, string>> = {
  aspectRatio: {
    LANDSCAPE_16_9: '16:9 wide',
    PORTRAIT_9_16: '9:16 tall',
    RATIO_1_1: '1:1 square',
    AUTO: 'Like the source',
    ADAPTIVE: 'Fit the source',
  },
  resolution: { RES_HD: 'HD', RES_FHD: 'Full HD', RES_2K: '2K', RES_4K: '4K' },
  personGeneration: { ALLOW_ADULT: 'Adults allowed', DONT_ALLOW: 'No people' },
  provider: { AUTO: 'Automatic', NATIVE: 'The vendor itself', GOOGLE: 'Google', FAL: 'fal.ai' },
};

/** A value in words: `code` is the GraphQL enum name when the field has one, `shown` how the model lists it. */
export function valueName(field: string, code: string | number | boolean, shown?: string | number | boolean): string {
  if (field === 'durationSeconds') return `${code} s`;
  const named = VALUES[field]?.[String(code)];
  if (named) return named;
  if (shown !== undefined) return humanValue(shown);
  // Enum names without an entry: RES_480P → 480p, RATIO_4_3 → 4:3.
  const text = String(code);
  if (/^RES_/.test(text)) return text.slice(4).toLowerCase();
  if (/^RATIO_\d+_\d+$/.test(text)) return text.slice(6).replace('_', ':');
  return humanValue(text);
}

/** A vendor's value spelling made readable: `magic_fireball` → "Magic fireball", `3d_animation` → "3d animation"; `16:9`, `720p`, numbers unchanged. */
export function humanValue(value: string | number | boolean): string {
  if (typeof value !== 'string' || !/[a-z]/.test(value) || !/^[\w'-]+$/.test(value)) return String(value);
  // Sizes and resolutions (720p, 4k) are already words.
  if (/^\d/.test(value) && !/[_-]/.test(value)) return value;
  const words = value
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** What the form calls an input: the shared fields' own label, else its name made readable. */
export function labelOf(input: { name: string; shared: boolean }): string {
  return (input.shared ? FIELDS[input.name]?.label : undefined) ?? humanName(input.name);
}

/** An input's name as a label: `effectScene` → "Effect scene", `numInferenceSteps` → "Number of inference steps". */
export function humanName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_]+/)
    .map((word) => ABBREVIATIONS[word.toLowerCase()] ?? word.toLowerCase());
  const text = words
    .join(' ')
    .replace(/\burl$/, 'link')
    .replace(/\burls$/, 'links');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const ABBREVIATIONS: Record<string, string> = {
  num: 'number of',
  fps: 'frames per second',
  tts: 'speech',
  cfg: 'CFG',
  id: 'ID',
  ids: 'IDs',
  hdr: 'HDR',
  exr: 'EXR',
  camerafixed: 'fixed camera',
};

/** A vendor description cut to its first paragraph, short enough to sit under a control. */
export function shortDescription(description: string | null | undefined, max = 220): string {
  const first = (description ?? '').trim().split(/\n/)[0]!.trim();
  return first.length > max ? `${first.slice(0, max - 1).replace(/\s+\S*$/, '')}…` : first;
}

export const MODEL_KINDS: Record<string, string> = {
  TEXT_TO_VIDEO: 'Text to video',
  TEXT_OR_IMAGE_TO_VIDEO: 'Text or pictures to video',
  IMAGE_TO_VIDEO: 'Picture to video',
  FIRST_LAST_FRAME_TO_VIDEO: 'First and last frame to video',
  REFERENCE_TO_VIDEO: 'Reference pictures to video',
  EXTEND_VIDEO: 'Extends a video',
  VIDEO_TO_VIDEO: 'Video to video',
  AVATAR_LIP_SYNC: 'Talking picture (lip sync)',
};

export const STATUSES: Record<string, string> = {
  QUEUED: 'Waiting',
  GENERATING: 'Generating',
  COMPLETED: 'Ready',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  TIMED_OUT: 'Timed out',
};

/** What a failure means for the person who asked for the video. */
export const FAILURES: Record<string, string> = {
  UPSTREAM_FAILED: 'The video service could not make this video.',
  NO_VIDEO: 'The video service finished but sent no video.',
  DEADLINE_EXCEEDED: 'This took far longer than usual, so the gateway stopped waiting for it.',
  CANCELLED_BY_OWNER: 'You cancelled it. The video service may still finish the job, and charge for it.',
  CREATE_OUTCOME_UNKNOWN: 'The request reached the video service but its answer was lost. It was not sent again, so you are not charged twice.',
  UPSTREAM_LOST: 'The video service no longer knows this job.',
};
