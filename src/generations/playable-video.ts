/**
 * What a client is told about a generation's video: where it plays now and where it came from.
 * Once the gateway holds its own copy, `url` is the gateway's signed link, which outlives the
 * upstream's; until then (copy pending or failed, or no media store) it is the upstream's link,
 * the only one there is. The upstream's link stays visible either way, with its expiry when the
 * link says it.
 */
import type { MediaLinks } from '../media/media-links';
import { MediaCopyState, type Generation, type GenerationVideo } from '../model/generation';
import { linkExpiry } from '../upstream/link-expiry';

export interface PlayableVideo extends GenerationVideo {
  /** The upstream's own link, as it gave it. */
  upstreamUrl: string;
  /** When the upstream's link stops working, when the link says; null otherwise. */
  upstreamUrlExpiresAt: Date | null;
}

export function playableVideo(g: Pick<Generation, 'id' | 'owner' | 'video'>, links: MediaLinks | null, now = Date.now()): PlayableVideo | null {
  const video = g.video;
  if (!video) return null;
  const stored = links !== null && video.copy?.state === MediaCopyState.STORED;
  return {
    ...video,
    url: stored ? links.url(g.owner, g.id, now) : video.url,
    upstreamUrl: video.url,
    // Read from the link only when asked for: parsing it was 3 % of a list request's CPU when the
    // field was not even selected (BENCHMARKS.md, HTTP). A getter is still read by spreads and JSON.
    get upstreamUrlExpiresAt() {
      return linkExpiry(video.url);
    },
  };
}
