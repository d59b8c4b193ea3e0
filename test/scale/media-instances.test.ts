/**
 * Two gateway processes on one PostgreSQL and one bucket (s3rver, an S3-protocol server: no S3 server
 * can be installed here): every finished video is copied exactly once, by whichever instance claims
 * its copy job, and both serve its link. Counted at the bucket: one upload per generation.
 */
import { createApiKey } from '../../src/auth/api-keys';
import { startSimulator, type Simulator } from '../../src/simulator';
import { sampleVideo } from '../../src/simulator/video';
import { createPgStore } from '../../src/store/pg-store';
import { CREATE, gqlData, SIMULATOR_KEY, waitFor } from '../helpers/gateway';
import { startS3Server, type S3Server } from '../helpers/s3-server';
import { describeWithServices, startGatewayProcess, startPostgres, type GatewayProcess, type PostgresServer } from '../helpers/services';

const TIME_SCALE = 0.01;
const COUNT = 12;
const VIEW = 'query($id: ID!) { videoGeneration(id: $id) { status video { url copy { state sizeBytes } } } }';

describeWithServices('video copies by two instances on one PostgreSQL', () => {
  let postgres: PostgresServer;
  let simulator: Simulator;
  let s3: S3Server;
  let key: string;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    [postgres, simulator, s3] = await Promise.all([
      startPostgres(),
      startSimulator({ apiKey: SIMULATOR_KEY, port: 0, host: '127.0.0.1', timeScale: TIME_SCALE, seed: 15 }),
      startS3Server(),
    ]);
    const store = createPgStore({ connectionString: postgres.url });
    await store.start();
    key = (await createApiKey(store, 'media-owner')).key;
    await store.stop();
    for (const name of ['media-a', 'media-b']) {
      gateways.push(
        await startGatewayProcess(
          name,
          {
            DATABASE_URL: postgres.url,
            AIMLAPI_API_KEY: SIMULATOR_KEY,
            AIMLAPI_BASE_URL: simulator.url,
            UPSTREAM_TIME_SCALE: String(TIME_SCALE),
            POLL_MIN_INTERVAL_MS: '2000',
            MEDIA_STORE: 's3',
            MEDIA_S3_BUCKET: s3.bucket,
            MEDIA_S3_ENDPOINT: s3.endpoint,
            MEDIA_S3_FORCE_PATH_STYLE: 'true',
            MEDIA_LINK_SECRET: 'a shared secret of at least 32 characters',
            AWS_ACCESS_KEY_ID: 'S3RVER',
            AWS_SECRET_ACCESS_KEY: 'S3RVER',
          },
          { startTimeoutMs: 60_000 },
        ),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await simulator?.stop();
    await s3?.stop();
    await postgres?.destroy();
  }, 60_000);

  it('copies each video exactly once (one upload per generation), and either instance serves it', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
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
