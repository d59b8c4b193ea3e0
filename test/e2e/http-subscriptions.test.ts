/**
 * Subscriptions without WebSockets: GraphQL over SSE (graphql-sse's client) and Apollo's multipart
 * HTTP protocol (Apollo Client's HttpLink, and a raw reader for the wire), against a real gateway.
 * Each follows a generation to its video as graphql-ws does: snapshot first, every version once,
 * completion after the terminal status; and each refuses what the WebSocket path refuses.
 */
import {
  CreateVideoGenerationDocument,
  VideoGenerationUpdatedDocument,
  VideoGenerationsUpdatedDocument,
  VideoModelsDocument,
  gqlData,
  startGateway,
  waitFor,
  within,
  useGateway,
  type Collected,
} from '../helpers/gateway';
import { collectSse, httpSubscriber, readMultipart, subscriptionErrorCodes } from '../helpers/http-subscriptions';

const codes = subscriptionErrorCodes;

/** Starting a gateway takes seconds, and more on a loaded machine. */
const START_MS = 60_000;

describe.each(['sse', 'multipart'] as const)('subscriptions over %s', (transport) => {
  const gw = useGateway({ env: { HTTP_SUBSCRIPTION_HEARTBEAT_MS: '100' } }, START_MS);
  const subscribe = httpSubscriber[transport];
  let key: string;
  const subs: Collected<any>[] = [];
  const track = <T>(s: Collected<T>) => (subs.push(s), s);

  beforeAll(async () => {
    key = await gw.keyFor('alice');
  });
  afterEach(() => {
    for (const s of subs.splice(0)) s.unsubscribe();
  });

  const create = async (k = key) =>
    (await gqlData(gw, k, CreateVideoGenerationDocument, { input: { model: 'google/veo3', prompt: `over ${transport}` } })).createVideoGeneration;

  it('should follow a generation to its video: the snapshot, every version once and in order, then complete', async () => {
    const g = await create();
    const sub = track(subscribe(gw, key, VideoGenerationUpdatedDocument, { id: g.id }));
    await within('the subscription to complete', sub.done, 15_000);
    expect(sub.errors).toEqual([]);
    const updates = sub.values.map((v) => v.videoGenerationUpdated);
    expect(updates[0].version).toBeGreaterThanOrEqual(g.version);
    expect(updates.map((u) => u.version)).toEqual(updates.map((_, i) => updates[0].version + i));
    expect(updates.at(-1)?.status).toBe('COMPLETED');
    expect(updates.at(-1)?.video?.url).toMatch(/^http/);
  });

  it('should refuse a request without a credential with 401 and UNAUTHENTICATED', async () => {
    const g = await create();
    const sub = track(subscribe(gw, null, VideoGenerationUpdatedDocument, { id: g.id }));
    await within('the refusal', sub.done, 5_000);
    expect(sub.values).toEqual([]);
    // graphql-sse's client reports the HTTP answer (its NetworkError holds the response), Apollo Client its body too.
    const statuses = sub.errors.map((e: any) => e.response?.status ?? e.networkError?.statusCode ?? e.statusCode);
    expect(statuses).toEqual([401]);
  });

  it("should answer another owner's generation as NOT_FOUND, like an unknown id", async () => {
    const g = await create();
    const bob = await gw.keyFor('bob');
    const sub = track(subscribe(gw, bob, VideoGenerationUpdatedDocument, { id: g.id }));
    await within('the refusal', sub.done, 5_000);
    expect(sub.values).toEqual([]);
    expect(codes(sub.errors)).toEqual(['NOT_FOUND']);
  });

  it('should apply the document limits of the other transports (an alias flood is refused)', async () => {
    const aliases = `subscription { videoGenerationsUpdated { ${Array.from({ length: 40 }, (_, i) => `a${i}: id`).join(' ')} } }`;
    const sub = track(subscribe(gw, key, aliases));
    await within('the refusal', sub.done, 5_000);
    expect(sub.values).toEqual([]);
    expect(JSON.stringify(sub.errors)).toMatch(/GRAPHQL_VALIDATION_FAILED|alias/i);
  });

  it(
    "should stream only the owner's own generations on the feed, and end it with UNAUTHENTICATED when the key is revoked",
    async () => {
      const gateway = await startGateway({ env: { WS_CREDENTIAL_RECHECK_MS: '100', API_KEY_CACHE_MS: '0' } });
      try {
        const carol = await gateway.keyFor('carol');
        const dave = await gateway.keyFor('dave');
        const sub = subscribe(gateway, carol, VideoGenerationsUpdatedDocument, {});
        await gqlData(gateway, dave, CreateVideoGenerationDocument, { input: { model: 'google/veo3', prompt: 'not carol' } });
        const mine = (await gqlData(gateway, carol, CreateVideoGenerationDocument, { input: { model: 'google/veo3', prompt: 'carol' } }))
          .createVideoGeneration;
        await waitFor('an update of carol’s generation', () => sub.values.length > 0, 10_000);
        expect(sub.values.every((v) => v.videoGenerationsUpdated.id === mine.id)).toBe(true);
        expect(await gateway.app.revokeApiKey(carol.slice(0, 12))).toBeGreaterThan(0);
        await within('the stream to end after the revocation', sub.done, 5_000);
        expect(codes(sub.errors)).toContain('UNAUTHENTICATED');
      } finally {
        await gateway.stop();
      }
    },
    START_MS,
  );
});

describe('GraphQL over SSE specifics', () => {
  const gw = useGateway({}, START_MS);

  it('should serve subscriptions only, as graphql-ws does, naming the transport', async () => {
    const key = await gw.keyFor('erin');
    const sub = collectSse(gw, key, VideoModelsDocument);
    await within('the refusal', sub.done, 5_000);
    expect(sub.values).toEqual([]);
    expect(JSON.stringify(sub.errors)).toMatch(/Only subscriptions are served over GraphQL over SSE/);
  });

  it(
    'should end open streams at shutdown without `complete`, so graphql-sse clients reconnect',
    async () => {
      // A grace period far longer than the bound below, so that a stop that waited for it fails.
      const gateway = await startGateway({ env: { SHUTDOWN_GRACE_MS: '60000' } });
      const key = await gateway.keyFor('frank');
      const res = await fetch(gateway.app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: 'subscription { videoGenerationsUpdated { id } }' }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = res.text();
      const stopping = Date.now();
      await gateway.stop();
      // Ended at once, not after the drain's grace period (60 s) has run out on an open response; the
      // room is for closing the store on a loaded machine.
      expect(Date.now() - stopping).toBeLessThan(20_000);
      expect(await within('the stream to end', text, 5_000)).not.toMatch(/event: complete/);
    },
    START_MS,
  );
});

describe('multipart HTTP specifics (the wire)', () => {
  const gw = useGateway({ env: { HTTP_SUBSCRIPTION_HEARTBEAT_MS: '100' } }, START_MS);

  it('should answer multipart/mixed with subscriptionSpec 1.0, send heartbeats, and close with the final boundary', async () => {
    const key = await gw.keyFor('gina');
    const g = (await gqlData(gw, key, CreateVideoGenerationDocument, { input: { model: 'google/veo3', prompt: 'wire' } })).createVideoGeneration;
    const stream = await readMultipart(gw, key, VideoGenerationUpdatedDocument, { id: g.id });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    await within('the stream to end', stream.done, 15_000);
    expect(stream.closed).toBe(true);
    const heartbeats = stream.parts.filter((p) => Object.keys(p).length === 0);
    expect(heartbeats.length).toBeGreaterThan(0);
    const payloads = stream.parts.filter((p) => 'payload' in p).map((p) => (p.payload as any).data.videoGenerationUpdated);
    expect(payloads.at(-1).status).toBe('COMPLETED');
  });

  it('should leave a query sent with the multipart Accept header to Apollo, which answers it as JSON', async () => {
    const stream = await readMultipart(gw, null, VideoModelsDocument);
    await stream.done;
    expect(stream.status).toBe(200);
    expect((stream.parts[0] as any).data.videoModels.length).toBeGreaterThan(0);
  });

  it(
    'should end open streams at shutdown with a SERVICE_UNAVAILABLE transport error',
    async () => {
      const gateway = await startGateway();
      const key = await gateway.keyFor('hank');
      const stream = await readMultipart(gateway, key, 'subscription { videoGenerationsUpdated { id } }');
      await gateway.stop();
      await within('the stream to end', stream.done, 5_000);
      expect(stream.parts.at(-1)).toEqual({ payload: null, errors: [expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE' } })] });
      expect(stream.closed).toBe(true);
    },
    START_MS,
  );
});
