import { playableVideo } from '../../../src/generations/playable-video';
import { MediaLinks } from '../../../src/media/media-links';
import { MediaCopyState, type Generation, type MediaCopy } from '../../../src/model/generation';

const UPSTREAM = 'https://cdn.example.com/v.mp4?Expires=1767225600&Signature=s';
const NOW = Date.UTC(2026, 0, 1);

function generation(copy?: MediaCopy): Generation {
  return {
    id: 'g1',
    owner: 'alice',
    video: { url: UPSTREAM, contentType: 'video/mp4', fileName: null, sizeBytes: null, ...(copy ? { copy } : {}) },
  } as Generation;
}

describe('playableVideo', () => {
  const secret = Buffer.alloc(32, 7);

  it("is the gateway's signed link once the copy is stored, behind the public base URL when there is one", () => {
    const g = generation({ state: MediaCopyState.STORED, sizeBytes: 10, sha256: 'ab', contentType: 'video/mp4', storedAt: '2026-01-01T00:00:00Z' });
    const relative = playableVideo(g, new MediaLinks(secret, 3600), NOW)!;
    expect(relative.url).toBe(new MediaLinks(secret, 3600).path('alice', 'g1', NOW));
    expect(relative.url).toMatch(/^\/media\/g1\?exp=\d+&sig=/);
    const absolute = playableVideo(g, new MediaLinks(secret, 3600, 'https://videos.example.com/gw'), NOW)!;
    expect(absolute.url).toBe(`https://videos.example.com/gw${relative.url}`);
    expect(absolute).toMatchObject({ upstreamUrl: UPSTREAM, upstreamUrlExpiresAt: new Date('2026-01-01T00:00:00Z') });
  });

  it("stays the upstream's link while the copy is pending or failed, and without a media store", () => {
    const links = new MediaLinks(secret, 3600);
    expect(playableVideo(generation({ state: MediaCopyState.PENDING }), links, NOW)!.url).toBe(UPSTREAM);
    expect(playableVideo(generation({ state: MediaCopyState.FAILED }), links, NOW)!.url).toBe(UPSTREAM);
    expect(playableVideo(generation({ state: MediaCopyState.STORED, sha256: 'ab' }), null, NOW)!.url).toBe(UPSTREAM);
    expect(playableVideo(generation(), links, NOW)!.url).toBe(UPSTREAM);
    expect(playableVideo({ id: 'g', owner: 'a', video: null } as unknown as Generation, links, NOW)).toBeNull();
  });
});
