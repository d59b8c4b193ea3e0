/**
 * How long a simulated generation takes, in (unscaled) seconds from create to `completed`.
 *
 * The vendor states typical times on a few model pages (`aimlapi-video-models.md`, and contract §8
 * for the Veo figures its pages have since dropped). Each figure holds for one clip length and,
 * sometimes, one resolution; a request for another length or resolution scales it linearly with
 * the clip's seconds and with the frame's short side, which is what the pages' own pairs show
 * roughly (Kling 5 s → 10 s about doubles; PixVerse 720p → 1080p about doubles, VEED 480p → 720p
 * adds a third). "About N" is read as N ± 10%.
 */

/** One stated figure: `seconds` (min, max) to make `forSeconds` of video, at `shortSide` pixels when stated. */
interface StatedTime {
  seconds: readonly [number, number];
  forSeconds: number;
  shortSide?: number;
}

const VEO2: StatedTime[] = [{ seconds: [40, 50], forSeconds: 5 }];
const ABOUT_2_MIN_FOR_8S: StatedTime[] = [{ seconds: [108, 132], forSeconds: 8 }];
const KLING_MASTER: StatedTime[] = [
  { seconds: [300, 360], forSeconds: 5 },
  { seconds: [660, 840], forSeconds: 10 },
];

const STATED_TIMES: Readonly<Record<string, readonly StatedTime[]>> = {
  veo2: VEO2,
  'veo2/image-to-video': VEO2,
  'bytedance/seedance-1-0-lite-t2v': VEO2,
  'bytedance/seedance-1-0-lite-i2v': VEO2,
  'bytedance/seedance-1-0-pro-t2v': VEO2,
  'bytedance/seedance-1-0-pro-i2v': VEO2,
  'google/veo3': ABOUT_2_MIN_FOR_8S,
  'google/veo-3.0-fast': ABOUT_2_MIN_FOR_8S,
  // Figures the pages carried earlier (contract §8), still the vendor's own word for these models.
  'google/veo-3.0-i2v': [{ seconds: [40, 50], forSeconds: 8 }],
  'google/veo-3.0-i2v-fast': [{ seconds: [54, 66], forSeconds: 8 }],
  'google/veo-3.1-t2v': ABOUT_2_MIN_FOR_8S,
  'google/veo-3.1-i2v': [{ seconds: [80, 100], forSeconds: 8 }],
  'openai/sora-2-t2v': [{ seconds: [50, 60], forSeconds: 4, shortSide: 720 }],
  'openai/sora-2-pro-t2v': [{ seconds: [80, 90], forSeconds: 4, shortSide: 1080 }],
  'pixverse/v5/text-to-video': [
    { seconds: [30, 40], forSeconds: 5, shortSide: 720 },
    { seconds: [68, 82], forSeconds: 5, shortSide: 1080 },
  ],
  'veed/fabric-1.0': [
    { seconds: [77, 93], forSeconds: 5, shortSide: 480 },
    { seconds: [104, 126], forSeconds: 5, shortSide: 720 },
  ],
  'klingai/v2-master-text-to-video': KLING_MASTER,
  'klingai/v2-master-image-to-video': KLING_MASTER,
  'klingai/v2.1-master-text-to-video': KLING_MASTER,
  'klingai/v2.1-master-image-to-video': KLING_MASTER,
  'kling-video/v2.1/pro/image-to-video': [
    { seconds: [180, 240], forSeconds: 5 },
    { seconds: [360, 480], forSeconds: 10 },
  ],
  'minimax/hailuo-02': [
    { seconds: [240, 300], forSeconds: 6 },
    { seconds: [480, 540], forSeconds: 10 },
  ],
};

/**
 * For the models whose pages state no time: 60–120 s for 8 s of 1080p video. That spans the Veo
 * 3.1 transcripts (about 1 min of polls for an 8 s clip) and the about-2-minute figures, and sits
 * well inside the vendor samples' 10-minute timeout.
 */
export const DEFAULT_TIME: StatedTime = { seconds: [60, 120], forSeconds: 8, shortSide: 1080 };

export interface TimelineRequest {
  modelId: string;
  /** Seconds of video asked for (or the model's default). */
  duration: number;
  /** `resolution` as asked for (or the model's default), in the wire's spelling: `720p`, `1080P`, `4k`, `hd`… */
  resolution?: string;
  /** The model's default `resolution`: the one a stated figure without a resolution was measured at. */
  defaultResolution?: string;
}

/** The (min, max) seconds a generation of this request takes at time scale 1. */
export function timelineSeconds(request: TimelineRequest): [number, number] {
  const side = shortSide(request.resolution);
  const figures = STATED_TIMES[request.modelId] ?? [DEFAULT_TIME];
  const figure = closest(figures, request.duration, side);
  const reference = figure.shortSide ?? shortSide(request.defaultResolution);
  const factor = (request.duration / figure.forSeconds) * (side !== undefined && reference !== undefined ? side / reference : 1);
  return [figure.seconds[0] * factor, figure.seconds[1] * factor];
}

/** The figure measured at this resolution if there is one, then the one for the nearest clip length. */
function closest(figures: readonly StatedTime[], duration: number, side: number | undefined): StatedTime {
  const cost = (f: StatedTime): number => (f.shortSide !== undefined && f.shortSide !== side ? 1e6 : 0) + Math.abs(f.forSeconds - duration);
  return figures.reduce((best, f) => (cost(f) < cost(best) ? f : best));
}

const NAMED_SIDES: Readonly<Record<string, number>> = { sd: 480, hd: 720, fhd: 1080, '2k': 1440, '4k': 2160 };

/** The frame's short side in pixels (`720p` → 720, `4k` → 2160), or undefined for an unknown spelling. */
export function shortSide(resolution: string | undefined): number | undefined {
  if (resolution === undefined) return undefined;
  const text = resolution.trim().toLowerCase();
  const pixels = /^(\d{3,4})p$/.exec(text);
  return pixels ? Number(pixels[1]) : NAMED_SIDES[text];
}
