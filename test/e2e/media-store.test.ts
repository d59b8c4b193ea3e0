/**
 * Finished videos are copied into the gateway's media store, end to end: a real gateway, the
 * simulator as the upstream, and each store (a folder; a bucket on s3rver, an S3-protocol server:
 * no S3 server can be installed here). A subscriber learns of the copy without polling: its
 * subscription ends only once the copy has ended, with the copy's version.
 */
import { buffer } from 'node:stream/consumers';
import { mediaKey } from '../../src/generations/media-copier';
import { sampleVideo } from '../../src/simulator/video';
import {
  CreateVideoGenerationDocument,
  VideoGenerationUpdatedDocument,
  collect,
  gqlData,
  useGateway,
  waitFor,
  wsClient,
  type TestGateway,
} from '../helpers/gateway';
import { useS3Server } from '../helpers/s3-server';
import { createHash } from 'node:crypto';

const SAMPLE_SHA256 = createHash('sha256').update(sampleVideo()).digest('hex');

async function createAndWatch(gw: TestGateway) {
  const key = await gw.keyFor('alice');
  const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
    input: { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' },
  });
  const client = wsClient(gw, key);
  const sub = collect(client, VideoGenerationUpdatedDocument, { id: g.id });
  await sub.done;
  await client.dispose();
  expect(sub.errors).toEqual([]);
  return { id: g.id, last: sub.values.at(-1)!.videoGenerationUpdated };
}

async function expectStored(gw: TestGateway, id: string, lastSeenVersion: number) {
  const stored = await waitFor('the copy to be stored', async () => {
    const g = await gw.app.store.getGeneration(id);
    return g?.video?.copy?.state === 'STORED' ? g : undefined;
  });
  expect(stored.video!.copy).toMatchObject({ sizeBytes: sampleVideo().length, sha256: SAMPLE_SHA256, contentType: 'video/mp4' });
  // The subscription ended with the copy's version, not the completion's: no polling needed to learn of it.
  expect(lastSeenVersion).toBe(stored.version);
  const read = await gw.app.media!.read(mediaKey(id));
  expect((await buffer(read!.body)).equals(sampleVideo())).toBe(true);
}

/** The gateway's address plus a signed path. */
function linkOf(gw: TestGateway, owner: string, id: string, now?: number): string {
  return new URL(gw.app.mediaLinks!.path(owner, id, now), gw.app.url).toString();
}

describe('media store: a folder (the embedded default)', () => {
  const gw = useGateway({ env: { MEDIA_STORE: 'folder' } });
  let id: string;

  it('copies a finished video into the folder, and the subscription ends once it is stored', async () => {
    const watched = await createAndWatch(gw);
    id = watched.id;
    expect(watched.last.status).toBe('COMPLETED');
    await expectStored(gw, id, watched.last.version);
    // What a client reads: the gateway's own signed link as the url (relative: no PUBLIC_BASE_URL), the upstream's as provenance.
    const { videoGeneration } = await gqlData(
      gw,
      await gw.keyFor('alice'),
      'query Get($id: ID!) { videoGeneration(id: $id) { version video { url upstreamUrl upstreamUrlExpiresAt copy { state sizeBytes sha256 contentType errorCode durationSeconds width height frameRate } } } }',
      { id },
    );
    expect(videoGeneration).toEqual({
      version: watched.last.version,
      video: {
        url: expect.stringMatching(new RegExp(`^/media/${id}\\?exp=\\d+&sig=[\\w-]+$`)),
        upstreamUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/files\/.+\.mp4\?Expires=\d+&Signature=[\w-]+$/),
        // Read from the simulator's signed link, as from the upstream's.
        upstreamUrlExpiresAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        copy: {
          state: 'STORED',
          sizeBytes: sampleVideo().length,
          sha256: SAMPLE_SHA256,
          contentType: 'video/mp4',
          errorCode: null,
          // From the stored file's MP4 header: the sample is a 4 s 640x360 clip at 24 fps.
          durationSeconds: 4,
          width: 640,
          height: 360,
          frameRate: 24,
        },
      },
    });
    // A plain GET of that url, resolved against the gateway, is the video (what a `<video src>` does).
    const played = await fetch(new URL(videoGeneration.video.url, gw.app.url), { headers: { range: 'bytes=0-' } });
    expect(played.status).toBe(206);
    expect(Buffer.from(await played.arrayBuffer()).equals(sampleVideo())).toBe(true);
  });

  describe('serving it through a signed link', () => {
    const size = sampleVideo().length;

    it('plays whole: type, length, Accept-Ranges and a strong ETag from its SHA-256', async () => {
      const res = await fetch(linkOf(gw, 'alice', id));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('video/mp4');
      expect(res.headers.get('content-length')).toBe(String(size));
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('etag')).toBe(`"${SAMPLE_SHA256}"`);
      expect(Buffer.from(await res.arrayBuffer()).equals(sampleVideo())).toBe(true);
    });

    it('answers byte ranges with 206, an unsatisfiable one with 416, and HEAD without a body', async () => {
      const part = await fetch(linkOf(gw, 'alice', id), { headers: { range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${size}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(sampleVideo().subarray(100, 200))).toBe(true);
      const open = await fetch(linkOf(gw, 'alice', id), { headers: { range: 'bytes=0-' } });
      expect(open.status).toBe(206);
      expect(open.headers.get('content-range')).toBe(`bytes 0-${size - 1}/${size}`);
      await open.arrayBuffer();
      const beyond = await fetch(linkOf(gw, 'alice', id), { headers: { range: `bytes=${size}-` } });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
      const head = await fetch(linkOf(gw, 'alice', id), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(size));
    });

    it('answers 304 to a matching If-None-Match', async () => {
      const res = await fetch(linkOf(gw, 'alice', id), { headers: { 'if-none-match': `"${SAMPLE_SHA256}"` } });
      expect(res.status).toBe(304);
      expect(res.headers.get('etag')).toBe(`"${SAMPLE_SHA256}"`);
    });

    it('refuses a tampered, expired, other-owner or made-up link alike (403), without telling whether the video exists', async () => {
      const good = new URL(linkOf(gw, 'alice', id));
      const refused = async (url: string) => {
        const res = await fetch(url);
        return [res.status, await res.text()];
      };
      const tamperedSig = new URL(good);
      tamperedSig.searchParams.set(
        'sig',
        good.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      );
      const laterExpiry = new URL(good);
      laterExpiry.searchParams.set('exp', String(Number(good.searchParams.get('exp')) + 3600));
      const otherId = good.toString().replace(encodeURIComponent(id), 'b5a0f2de-0000-4000-8000-000000000000');
      const expired = linkOf(gw, 'alice', id, Date.now() - 2 * gw.app.mediaLinks!.ttlSeconds * 1000);
      const otherOwner = linkOf(gw, 'bob', id);
      const noSignature = `${good.origin}${good.pathname}`;
      const answers = await Promise.all([tamperedSig.toString(), laterExpiry.toString(), otherId, expired, otherOwner, noSignature].map(refused));
      expect(answers).toEqual(Array(6).fill([403, 'This link is not valid, or it has expired']));
    });

    it('takes GET and HEAD only', async () => {
      const res = await fetch(linkOf(gw, 'alice', id), { method: 'POST' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    });
  });
});

describe('media store: an S3 bucket (s3rver)', () => {
  const s3 = useS3Server();
  const gw = useGateway(() => ({ env: s3.gatewayEnv('gw/') }));

  it('copies a finished video into the bucket, and the subscription ends once it is stored; its link redirects to a presigned GET', async () => {
    const { id, last } = await createAndWatch(gw);
    await expectStored(gw, id, last.version);
    const link = linkOf(gw, 'alice', id);
    const redirect = await fetch(link, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toContain(`${s3.endpoint}/${s3.bucket}/gw/videos/${id}?`);
    const played = await fetch(link, { headers: { range: 'bytes=0-99' } });
    expect(played.status).toBe(206);
    expect(Buffer.from(await played.arrayBuffer()).equals(sampleVideo().subarray(0, 100))).toBe(true);
    expect((await fetch(linkOf(gw, 'bob', id), { redirect: 'manual' })).status).toBe(403);
  });
});
