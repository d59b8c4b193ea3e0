/**
 * SSE and multipart subscriptions while PostgreSQL is down, as the WebSocket path behaves (see
 * test/scale/cluster.test.ts): open streams keep their connection, with heartbeats, and deliver again
 * once the database is back; a subscription that cannot read its snapshot now ends so that its
 * client tries again (graphql-sse's client retries by itself, the multipart reader gets a
 * DATABASE_UNAVAILABLE transport error), never with a final answer. Real PostgreSQL 15, real HTTP.
 */
import { CREATE, WATCH, gqlData, sleep, startGateway, waitFor, within, type TestGateway } from '../helpers/gateway';
import { collectSse, readMultipart } from '../helpers/http-subscriptions';
import { describeWithServices, startPostgres, type PostgresServer } from '../helpers/services';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

jest.setTimeout(120_000);

type Update = { videoGenerationUpdated: { version: number; status: string } };

/** Versions strictly rising (none twice), ending at a terminal status. */
function expectWholeHistory(values: Update[]): void {
  const versions = values.map((v) => v.videoGenerationUpdated.version);
  expect(versions.length).toBeGreaterThan(0);
  expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  expect(values.at(-1)?.videoGenerationUpdated.status).toBe('COMPLETED');
}

describeWithServices('subscriptions over SSE and multipart HTTP during a database outage', () => {
  let postgres: PostgresServer;
  let gw: TestGateway;

  beforeAll(async () => {
    postgres = await startPostgres();
    // Real time: jobs stay in flight until the test ends them. Keys stay cached through the outage, as in
    // the WebSocket case; a key never used before is refused at the door (503) instead.
    gw = await startGateway({
      timeScale: 1,
      env: { DATABASE_URL: postgres.url, HTTP_SUBSCRIPTION_HEARTBEAT_MS: '200', API_KEY_CACHE_MS: '600000' },
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await gw?.stop();
    await postgres?.destroy();
  });

  it('keeps open streams with heartbeats, asks new ones to retry, and delivers every version once the database is back', async () => {
    const key = await gw.keyFor('outage-alice');
    const unused = await gw.keyFor('outage-bob');
    const created = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo3', prompt: 'through an outage' } })).createVideoGeneration;
    const sse = collectSse<Update>(gw, key, WATCH, { id: created.id });
    const multipart = await readMultipart(gw, key, WATCH, { id: created.id });
    expect(multipart.status).toBe(200);
    const multipartUpdates = () =>
      multipart.parts.flatMap((p) => ((p.payload as { data?: Update })?.data ? [(p.payload as { data: Update }).data] : []));
    await waitFor('both snapshots', () => sse.values.length > 0 && multipartUpdates().length > 0, 30_000);

    await postgres.stop();
    const partsAtStop = multipart.parts.length;

    // A new multipart subscription cannot read its snapshot: a transport error to retry on, then the end.
    const lateMultipart = await readMultipart(gw, key, WATCH, { id: created.id });
    await within('the late multipart stream to end', lateMultipart.done, 30_000);
    expect(lateMultipart.closed).toBe(true);
    expect(lateMultipart.parts.filter((p) => Object.keys(p).length > 0)).toEqual([
      { payload: null, errors: [{ message: 'Database unavailable; try again later', extensions: { code: 'DATABASE_UNAVAILABLE' } }] },
    ]);
    // graphql-sse's client, retrying as it does after a dropped connection, until the database is back.
    const lateSse = collectSse<Update>(gw, key, WATCH, { id: created.id }, { retryAttempts: 10_000 });
    // A credential the gateway has not seen cannot be checked now: refused at the door, with the code.
    const door = await fetch(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${unused}` },
      body: JSON.stringify({ query: WATCH, variables: { id: created.id } }),
    });
    expect(door.status).toBe(503);
    expect(((await door.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('DATABASE_UNAVAILABLE');

    // The open streams stay: heartbeats go on, nothing ends them.
    await waitFor('heartbeats during the outage', () => multipart.parts.length >= partsAtStop + 3, 10_000);
    expect(multipart.parts.slice(partsAtStop)).toEqual(expect.arrayContaining([{}]));
    expect(multipart.closed).toBe(false);
    expect(sse.errors).toEqual([]);
    await sleep(300);
    expect(lateSse.values).toEqual([]);

    await postgres.start();
    gw.simulator.control.forceOutcome(created.upstreamId, 'completed');
    await within('every stream to see the generation end', Promise.all([sse.done, multipart.done, lateSse.done]), 60_000);
    for (const values of [sse.values, multipartUpdates(), lateSse.values]) expectWholeHistory(values);
    expect(multipart.closed).toBe(true);
    expect(multipart.parts.some((p) => 'errors' in p)).toBe(false);
    expect(sse.errors).toEqual([]);
    expect(lateSse.errors).toEqual([]);
  });
});
