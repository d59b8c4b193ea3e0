/**
 * Words for people where the schema only has codes. Everything else the page shows comes from
 * `videoModels` and the generations themselves; this table covers what the schema does not carry
 * yet (a human name per input and per enum value, which inputs belong together, the vendor of a
 * model, sentences for statuses and failure codes). When `videoModels` describes inputs as data
 * (label, type, allowed values, default), the form should read those first and fall back to this.
 */

/** How a field is edited, for inputs whose kind the schema does not state. */
export type FieldKind = 'choice' | 'switch' | 'url' | 'urls' | 'integer' | 'text';

/** Where a field appears in the form: the options people change most first, the rest folded away. */
export type FieldGroup = 'video' | 'media' | 'advanced';

export interface FieldWords {
  label: string;
  /** One short sentence under the control. */
  hint?: string;
  kind: FieldKind;
  group: FieldGroup;
  /** For `url`/`urls`: the media type a `data:` URI must carry. */
  media?: 'image' | 'video';
  /** For `switch`: the upstream's default when it is the same for every model (else "Default" is offered). */
  defaultOn?: boolean;
}

export const FIELDS: Record<string, FieldWords> = {
  durationSeconds: { label: 'Length', kind: 'choice', group: 'video' },
  aspectRatio: { label: 'Shape', kind: 'choice', group: 'video' },
  resolution: { label: 'Resolution', kind: 'choice', group: 'video' },
  generateAudio: { label: 'Sound', hint: 'A soundtrack made with the video; it may cost more.', kind: 'switch', group: 'video', defaultOn: true },
  imageUrl: { label: 'First frame', hint: 'A picture the video starts from: an https:// link or a data:image URI.', kind: 'url', group: 'media', media: 'image' },
  lastImageUrl: { label: 'Last frame', hint: 'A picture the video ends on: an https:// link or a data:image URI.', kind: 'url', group: 'media', media: 'image' },
  imageUrls: { label: 'Reference pictures', hint: 'Links to pictures of the subject, one per line.', kind: 'urls', group: 'media', media: 'image' },
  videoUrl: { label: 'Video to extend', hint: 'An https:// link to the clip, or a data:video URI.', kind: 'url', group: 'media', media: 'video' },
  negativePrompt: { label: 'Leave out', hint: 'Things the video should not show.', kind: 'text', group: 'advanced' },
  seed: { label: 'Seed', hint: 'The same seed and prompt give similar results. 0 to 2147483647.', kind: 'integer', group: 'advanced' },
  enhancePrompt: { label: 'Improve my prompt', hint: 'Let the service rewrite the prompt for quality.', kind: 'switch', group: 'advanced', defaultOn: true },
  autoFix: { label: 'Fix policy problems', hint: 'Let the service rewrite a prompt its content checks refuse.', kind: 'switch', group: 'advanced' },
  personGeneration: { label: 'People', kind: 'choice', group: 'advanced' },
  provider: { label: 'Runs on', kind: 'choice', group: 'advanced' },
};

export const GROUPS: Record<FieldGroup, string> = {
  video: 'Video',
  media: 'Pictures and video',
  advanced: 'More options',
};

/** Names for enum values and numbers; a value missing here is shown as the API spells it. */
const VALUES: Record<string, Record<string, string>> = {
  durationSeconds: {},
  aspectRatio: { LANDSCAPE_16_9: '16:9 wide', PORTRAIT_9_16: '9:16 tall', AUTO: 'Like the source' },
  resolution: { RES_720P: '720p', RES_1080P: '1080p' },
  personGeneration: { ALLOW_ADULT: 'Adults allowed', DONT_ALLOW: 'No people' },
  provider: { AUTO: 'Automatic', GOOGLE: 'Google', FAL: 'fal.ai' },
};

export function valueName(field: string, value: string | number): string {
  if (field === 'durationSeconds') return `${value} s`;
  return VALUES[field]?.[String(value)] ?? String(value);
}

export const MODEL_KINDS: Record<string, string> = {
  TEXT_TO_VIDEO: 'Text to video',
  TEXT_OR_IMAGE_TO_VIDEO: 'Text or pictures to video',
  IMAGE_TO_VIDEO: 'Picture to video',
  FIRST_LAST_FRAME_TO_VIDEO: 'First and last frame to video',
  REFERENCE_TO_VIDEO: 'Reference pictures to video',
  EXTEND_VIDEO: 'Extends a video',
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
