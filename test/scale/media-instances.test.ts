/**
 * Two gateway processes on one PostgreSQL and one bucket (s3rver, an S3-protocol server: no S3 server
 * can be installed here): every finished video is copied exactly once, by whichever instance claims
 * its copy job, and both serve its link. Counted at the bucket: one upload per generation.
 */
import { sampleVideo } from '../../src/simulator/video';
import { CREATE, gqlData, waitFor } from '../helpers/gateway';
import { startGatewayGroup, type GatewayGroup } from '../helpers/gateway-group';
import { useS3Server } from '../helpers/s3-server';
import { describeWithServices, type GatewayProcess } from '../helpers/services';

const TIME_SCALE = 0.01;
const COUNT = 12;
const VIEW = 'query($id: ID!) { videoGeneration(id: $id) { status video { url copy { state sizeBytes } } } }';

describeWithServices('video copies by two instances on one PostgreSQL', () => {
  const s3 = useS3Server();
  let group: GatewayGroup;

  beforeAll(async () => {
    group = await startGatewayGroup({
      instances: 2,
      name: 'media',
      timeScale: TIME_SCALE,
      seed: 15,
      owner: 'media-owner',
      env: { ...s3.gatewayEnv(), MEDIA_LINK_SECRET: 'a shared secret of at least 32 characters' },
      startTimeoutMs: 60_000,
    });
  }, 120_000);

  afterAll(() => group?.stop(), 60_000);

  it('copies each video exactly once (one upload per generation), and either instance serves it', async () => {
    const { key } = group;
    const [a, b] = group.gateways as [GatewayProcess, GatewayProcess];
    const created = await Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        gqlData(i % 2 ? a : b, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: `copied ${i}` } }),
      ),
    );
    const ids = created.map((c) => c.createVideoGeneration.id as string);
    const stored = await Promise.all(
      ids.map((id, i) =>
        waitFor(
          `the copy of generation ${i} to be stored`,
          async () => {
            const g = (await gqlData(i % 2 ? b : a, key, VIEW, { id })).videoGeneration;
            return g.video?.copy?.state === 'STORED' && g;
          },
          90_000,
          250,
        ),
      ),
    );
    expect(stored.map((g) => g.video.copy.sizeBytes)).toEqual(Array(COUNT).fill(sampleVideo().length));
    // Settle: a second copier's upload would land after the first one's record.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const uploads = s3.writes().sort();
    expect(uploads).toEqual(ids.map((id) => `videos/${id}`).sort());
    // A link read from one instance plays from the other (the same link secret on both).
    for (const [i, g] of stored.slice(0, 2).entries()) {
      const other = i % 2 ? a : b;
      const res = await fetch(new URL(g.video.url, other.url));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(sampleVideo())).toBe(true);
    }
  });
});
