/**
 * A database failure while a paid create is in flight upstream: the upstream job exists, so the
 * client must get its generation (never "try again", which would pay twice), and the gateway must
 * record it once PostgreSQL is back. Real PostgreSQL 15 stopped mid-create, a real simulator that
 * holds the create open, real HTTP.
 */
import { CREATE, GET, gql, startGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { describeWithServices, startPostgres, type PostgresServer } from '../helpers/services';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

jest.setTimeout(120_000);

describeWithServices('a create whose record cannot be written (PostgreSQL stops mid-create)', () => {
  let postgres: PostgresServer;
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    postgres = await startPostgres();
    gw = await startGateway({ env: { DATABASE_URL: postgres.url } });
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await gw?.stop();
    await postgres?.destroy();
  });

  it('should answer with the generation, record it when the database is back, and replay it for the same idempotency key', async () => {
    const control = gw.simulator.control;
    const input = { model: 'google/veo-3.0-fast', prompt: 'paid for while the database was down', idempotencyKey: 'db-outage-1' };
    control.injectFault({ endpoint: 'create', action: { kind: 'delay', ms: 1_500 } });

    const answer = gql(gw, key, CREATE, { input });
    await waitFor('the create to reach the upstream', () => control.counts().create === 1, 10_000);
    await postgres.stop();
    const res = await answer;

    expect(res.body.errors).toBeUndefined();
    const created = res.body.data.createVideoGeneration;
    expect(created).toMatchObject({ status: 'QUEUED', idempotencyKey: 'db-outage-1', error: null });
    expect(created.upstreamId).toEqual(expect.any(String));

    await postgres.start();
    // Once the store answers again the generation is there, with the upstream's id, and is followed to the end.
    const recorded = await waitFor(
      'the record',
      async () => {
        const got = await gql(gw, key, GET, { id: created.id });
        const g = got.body.data?.videoGeneration;
        return g?.upstreamId ? g : null;
      },
      30_000,
      200,
    );
    expect(recorded.upstreamId).toBe(created.upstreamId);

    const replay = await gql(gw, key, CREATE, { input });
    expect(replay.body.errors).toBeUndefined();
    expect(replay.body.data.createVideoGeneration.id).toBe(created.id);

    const ended = await waitFor(
      'completion',
      async () => {
        const g = (await gql(gw, key, GET, { id: created.id })).body.data?.videoGeneration;
        return g?.status === 'COMPLETED' ? g : null;
      },
      30_000,
      200,
    );
    expect(ended.video.url).toEqual(expect.any(String));
    // One paid create, whatever happened to the database.
    expect(control.counts().create).toBe(1);
    expect(gw.logs.join('')).toContain('recorded a create after a store outage');
  });
});
