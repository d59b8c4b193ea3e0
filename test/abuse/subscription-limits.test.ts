/**
 * The limits on subscriptions hold whichever transport a client picks: open subscriptions per owner
 * are counted over graphql-ws, SSE and multipart HTTP together; an SSE or multipart stream spends one
 * operation of the per-second quota when it opens; failed authentications spend the address's
 * anonymous budget on every transport alike; and streams count against MAX_CONNECTIONS as sockets do.
 */
import { WATCH_ALL, collect, startGateway, useGateway, waitFor, wsClient, type TestGateway } from '../helpers/gateway';
import { readMultipart } from '../helpers/http-subscriptions';
import { expectCanaryAbsent, expectHealthy, overWs, recordSeen } from '../helpers/probes';

interface OpenStream {
  status: number;
  json: any;
  close(): void;
}

/** Opens a GraphQL over SSE stream with a raw fetch: its status once headers arrive; a refusal's JSON body. */
async function openSse(gw: TestGateway, key: string | null): Promise<OpenStream> {
  const controller = new AbortController();
  const res = await fetch(gw.app.url, {
    method: 'POST',
    signal: controller.signal,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query: WATCH_ALL }),
  });
  if (res.status === 200) return { status: 200, json: undefined, close: () => controller.abort() };
  const text = await res.text();
  recordSeen(text);
  return { status: res.status, json: JSON.parse(text), close: () => {} };
}

/** Opens a multipart subscription stream; a refusal's JSON body as `json`. */
async function openMultipart(gw: TestGateway, key: string | null): Promise<OpenStream & { retryAfter: string | null }> {
  const stream = await readMultipart(gw, key, WATCH_ALL);
  if (stream.status !== 200) await stream.done;
  recordSeen(JSON.stringify(stream.parts));
  return {
    status: stream.status,
    json: stream.status === 200 ? undefined : stream.parts[0],
    close: () => stream.abort(),
    retryAfter: stream.headers.get('retry-after'),
  };
}

/** `gateway_subscriptions`: subscriptions running now, over every transport. */
async function runningSubscriptions(gw: TestGateway): Promise<number> {
  const text = await (await fetch(gw.app.url.replace(/\/graphql$/, '/metrics'))).text();
  return Number(/^gateway_subscriptions (\S+)$/m.exec(text)?.[1]);
}

const codeOf = (s: { json: any }) => s.json?.errors?.[0]?.extensions?.code;

/** Opens with `open` every 200 ms until a stream is let in (up to 30 s), closing each refused attempt. */
function openOnceAdmitted<S extends OpenStream>(what: string, open: () => Promise<S>): Promise<S> {
  return waitFor(
    what,
    async () => {
      const attempt = await open();
      if (attempt.status === 200) return attempt;
      attempt.close();
      return null;
    },
    30_000,
    200,
  );
}

describe('open subscriptions per owner, over all three transports together', () => {
  let gw: TestGateway;
  const opened: Array<{ close(): void }> = [];

  beforeAll(async () => {
    gw = await startGateway({ env: { QUOTA_MAX_SUBSCRIPTIONS: '3' } });
  }, 60_000);
  afterAll(async () => {
    for (const s of opened) s.close();
    await expectCanaryAbsent(gw);
    await gw?.stop();
  }, 60_000);

  it('refuses the fourth with RATE_LIMITED on every transport, frees a slot when one ends, and leaves other owners alone', async () => {
    const [alice, bob] = await Promise.all([gw.keyFor('limits-alice'), gw.keyFor('limits-bob')]);
    const ws = wsClient(gw, alice);
    opened.push({ close: () => void ws.dispose() });
    const overWebSocket = collect(ws, WATCH_ALL);
    opened.push({ close: () => overWebSocket.unsubscribe() });
    await waitFor('the WebSocket subscription to run', async () => (await runningSubscriptions(gw)) === 1, 30_000);
    const sse = await openSse(gw, alice);
    opened.push(sse);
    expect(sse.status).toBe(200);
    const multipart = await openMultipart(gw, alice);
    opened.push(multipart);
    expect(multipart.status).toBe(200);
    await waitFor('three subscriptions running', async () => (await runningSubscriptions(gw)) === 3, 30_000);

    const refusedSse = await openSse(gw, alice);
    expect(refusedSse.status).toBe(429);
    expect(refusedSse.json.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 5, limit: 3 });
    expect(refusedSse.json.errors[0].message).toMatch(/at most 3 at once/);
    const refusedMultipart = await openMultipart(gw, alice);
    expect(refusedMultipart.status).toBe(429);
    expect(refusedMultipart.retryAfter).toBe('5');
    expect(codeOf(refusedMultipart)).toBe('RATE_LIMITED');
    const refusedWs = await overWs(gw, alice, WATCH_ALL);
    expect(refusedWs.errors.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    // The open WebSocket subscription was not disturbed by the refusal of another.
    expect(overWebSocket.errors).toEqual([]);

    // Another owner has slots of their own.
    const bobs = await openSse(gw, bob);
    opened.push(bobs);
    expect(bobs.status).toBe(200);

    // A client that goes away gives its slot back, whatever the transport.
    sse.close();
    const again = await openOnceAdmitted("a slot freed by alice's closed SSE stream", () => openMultipart(gw, alice));
    opened.push(again);
    expect(again.status).toBe(200);
    overWebSocket.unsubscribe();
    const overWs2 = await openOnceAdmitted("a slot freed by alice's completed WebSocket subscription", () => openSse(gw, alice));
    opened.push(overWs2);
    expect(overWs2.status).toBe(200);
    await expectHealthy(gw);
  }, 90_000);
});

describe('operations per second: a subscription stream spends one when it opens', () => {
  const gw = useGateway({ env: { QUOTA_REQUESTS_PER_SECOND: '2' } });

  it.each(['sse', 'multipart'] as const)(
    'answers a burst of %s opens over the quota with 429 RATE_LIMITED',
    async (transport) => {
      const key = await gw.keyFor(`burst-${transport}`);
      const open = transport === 'sse' ? openSse : openMultipart;
      // Seven opens at 2 a second: at least one is refused unless the burst spreads over four seconds.
      const streams = await Promise.all(Array.from({ length: 7 }, () => open(gw, key)));
      for (const s of streams) s.close();
      const refused = streams.filter((s) => s.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const s of refused) expect(codeOf(s)).toBe('RATE_LIMITED');
      expect(streams.filter((s) => s.status === 200).length).toBeGreaterThanOrEqual(2);
    },
    60_000,
  );
});

describe('failed authentications per client address, on every transport alike', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startGateway({ env: { ANONYMOUS_REQUESTS_PER_MINUTE: '4' } });
  }, 60_000);
  afterAll(async () => {
    await expectCanaryAbsent(gw);
    await gw?.stop();
  }, 60_000);

  it('spends one budget for SSE, multipart and WebSocket attempts, then refuses each with RATE_LIMITED; a key still works', async () => {
    const key = await gw.keyFor('anonymous-limits');
    expect((await openSse(gw, null)).status).toBe(401);
    expect((await openMultipart(gw, 'vgw_not-a-key')).status).toBe(401);
    expect((await overWs(gw, 'vgw_not-a-key', WATCH_ALL)).errors.map((e) => e.code)).toEqual([4403]);
    expect((await openSse(gw, 'vgw_not-a-key')).status).toBe(401);
    // The budget of 4 is spent, whichever transport spent it.
    const sse = await openSse(gw, null);
    expect(sse.status).toBe(429);
    expect(codeOf(sse)).toBe('RATE_LIMITED');
    const multipart = await openMultipart(gw, null);
    expect(multipart.status).toBe(429);
    expect(codeOf(multipart)).toBe('RATE_LIMITED');
    expect((await overWs(gw, 'vgw_not-a-key', WATCH_ALL)).errors.map((e) => e.code)).toEqual([4429]);
    const withKey = await openSse(gw, key);
    expect(withKey.status).toBe(200);
    withKey.close();
  }, 60_000);
});

describe('subscription streams count against MAX_CONNECTIONS', () => {
  const gw = useGateway({ env: { MAX_CONNECTIONS: '3' } });

  it('answers a new connection 503 while streams hold every slot, and serves again once one closes', async () => {
    const key = await gw.keyFor('connections');
    const streams = [await openSse(gw, key), await openMultipart(gw, key), await openSse(gw, key)];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
    const over = await openMultipart(gw, key);
    expect(over.status).toBe(503);
    expect(codeOf(over)).toBe('SERVICE_UNAVAILABLE');
    for (const s of streams) s.close();
    const after = await openOnceAdmitted('a connection slot after the streams closed', () => openSse(gw, key));
    after.close();
    expect(after.status).toBe(200);
  }, 60_000);
});
