/**
 * Hostile inputs beyond the document limits (reliability-security.md §4.1 H9, H12, H13 and §4.2 G6,
 * G7, G11), each over HTTP and over graphql-ws: refused with a JSON 4xx, a GraphQL error or a
 * protocol close code — never a 5xx, never 4500 (an internal error on the socket), never a crash.
 */
import { request } from 'node:http';
import WebSocket from 'ws';
import { startGateway, useGateway, within, type TestGateway } from '../helpers/gateway';
import { checkAfterProbes, expectJson4xx, expectRefusedDocument, expectWsRefused, overWs, postJson, recordSeen } from '../helpers/probes';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const circularFragments = `subscription { videoGenerationsUpdated { ...A } } fragment A on VideoGeneration { id ...B } fragment B on VideoGeneration { status ...A }`;

/** Each fragment spreads the next twice: 2^20 selections if expanded. */
function fragmentFanOut(levels: number, operation: 'query' | 'subscription'): string {
  const root = operation === 'query' ? '{ videoGenerations { nodes { ...F0 } } }' : '{ videoGenerationsUpdated { ...F0 } }';
  const fragments = Array.from({ length: levels }, (_, i) =>
    i === levels - 1 ? `fragment F${i} on VideoGeneration { id }` : `fragment F${i} on VideoGeneration { ...F${i + 1} ...F${i + 1} }`,
  );
  return `${operation} ${root} ${fragments.join(' ')}`;
}

/** Opens a raw graphql-transport-ws socket, sends `frame`, and reports how it ended (an ack is closed by us with 1000). */
async function initWith(gw: TestGateway, frame: string): Promise<{ code: number; acked: boolean }> {
  const socket = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws');
  socket.on('error', () => {});
  let acked = false;
  socket.once('open', () => socket.send(frame));
  socket.on('message', (data) => {
    recordSeen(String(data));
    if (String(data).includes('connection_ack')) {
      acked = true;
      socket.close(1000);
    }
  });
  const code = await within(
    'the socket to close',
    new Promise<number>((resolve) =>
      socket.once('close', (c, reason) => {
        recordSeen(reason.toString());
        resolve(c);
      }),
    ),
    5_000,
  );
  return { code, acked };
}

describe('hostile inputs', () => {
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    gw = await startGateway();
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  checkAfterProbes(() => gw);

  const auth = () => ({ authorization: `Bearer ${key}` });

  it('should refuse circular fragments on both transports', async () => {
    expectRefusedDocument(
      await postJson(
        gw,
        { query: circularFragments.replace('subscription', 'query').replace('videoGenerationsUpdated', 'videoGeneration(id: "x")') },
        auth(),
      ),
      /cannot spread fragment/i,
    );
    expectWsRefused(await overWs(gw, key, circularFragments), /cannot spread fragment/i);
  });

  it('should refuse an exponential fragment fan-out quickly on both transports', async () => {
    const started = Date.now();
    expectRefusedDocument(await postJson(gw, { query: fragmentFanOut(20, 'query') }, auth()));
    expectWsRefused(await overWs(gw, key, fragmentFanOut(20, 'subscription')));
    // Generous bound: a document expanded to 2^20 fields would take far longer (and time out the test).
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('should refuse an unknown operationName, and several operations without one', async () => {
    const two = 'query A { videoModels { id } } query B { videoModels { name } }';
    expectJson4xx(await postJson(gw, { query: two }, auth()), 400);
    expectJson4xx(await postJson(gw, { query: two, operationName: 'C' }, auth()), 400);
    const wsTwo = 'subscription A { videoGenerationsUpdated { id } } subscription B { videoGenerationsUpdated { status } }';
    expectWsRefused(await overWs(gw, key, wsTwo));
  });

  it('should refuse variables of the wrong type, out of range or shaped to pollute prototypes', async () => {
    const list = 'query L($first: Int!) { videoGenerations(first: $first) { nodes { id } } }';
    for (const first of ['5', 2 ** 31, Infinity, 1.5, { $gt: 1 }, [1]]) {
      const res = await postJson(gw, { query: list, variables: { first } }, auth());
      expect(res.status).toBeLessThan(500);
      expect(res.json.errors?.length ?? 0).toBeGreaterThan(0);
    }
    // Page sizes out of range are clamped (0 to 100), not refused.
    for (const first of [-1, 99_999_999]) {
      const res = await postJson(gw, { query: list, variables: { first } }, auth());
      expect(res.status).toBe(200);
      expect(res.json.data.videoGenerations.nodes).toEqual([]);
    }
    // Written raw (JSON.stringify would send null), 1e309 parses to Infinity, which no Int accepts.
    const raw = await postJson(gw, `{"query": ${JSON.stringify(list)}, "variables": {"first": 1e309}}`, auth());
    expect(raw.status).toBe(400);

    const create = 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }';
    const polluted = `{"query": ${JSON.stringify(create)}, "variables": {"input": {"model": "google/veo-3.0-fast", "prompt": "x", "__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}}}`;
    const res = await postJson(gw, polluted, auth());
    expectJson4xx(res, 400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(gw.simulator.control.counts().create).toBe(0);

    const watch = 'subscription W($s: [GenerationStatus!]) { videoGenerationsUpdated(status: $s) { id } }';
    for (const s of [[1e300], 'QUEUED; DROP TABLE', { __proto__: { admin: true } }, [['QUEUED']]]) {
      expectWsRefused(await overWs(gw, key, watch, { s }));
    }
  });

  it('should answer oversized and countless headers with a 4xx, on requests and WebSocket upgrades', async () => {
    const url = new URL(gw.app.url);
    const statusOf = (headers: Record<string, string>, upgrade: boolean) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'GET',
            headers: upgrade
              ? {
                  ...headers,
                  connection: 'Upgrade',
                  upgrade: 'websocket',
                  'sec-websocket-version': '13',
                  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
                  'sec-websocket-protocol': 'graphql-transport-ws',
                }
              : headers,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    const many = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`x-h${i}`, 'v']));
    const huge = { 'x-big': 'a'.repeat(20_000) };
    for (const upgrade of [false, true]) {
      for (const headers of [many, huge]) {
        const status = await statusOf(headers, upgrade);
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
      }
    }
  });

  it('should close a WebSocket with odd connection params with 4403 or 4400, never 4500', async () => {
    const frames = [
      { type: 'connection_init', payload: { authorization: 123 } },
      { type: 'connection_init', payload: { authorization: { Bearer: key } } },
      { type: 'connection_init', payload: { authorization: [`Bearer ${key}`] } },
      { type: 'connection_init', payload: { authorization: `Bearer ${'x'.repeat(60_000)}` } },
      { type: 'connection_init', payload: { apiKey: { toString: 'x' } } },
      { type: 'connection_init', payload: { __proto__: { authorization: `Bearer ${key}` } } },
      { type: 'connection_init', payload: null },
      { type: 'connection_init', payload: 'Bearer x' },
      { type: 'connection_init', payload: [key] },
    ];
    for (const frame of frames) {
      const { code, acked } = await initWith(gw, JSON.stringify(frame));
      expect(acked).toBe(false);
      expect([4400, 4403]).toContain(code);
    }
  });
});

describe('values the database cannot hold', () => {
  const CREATES_PER_MINUTE = 2;
  const gw = useGateway({ env: { QUOTA_CREATES_PER_MINUTE: String(CREATES_PER_MINUTE) } });
  let key: string;

  beforeAll(async () => {
    key = await gw.keyFor('alice');
  });

  const auth = () => ({ authorization: `Bearer ${key}` });
  const create = 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id status } }';
  const dataUri = `data:image/png;base64,${Buffer.alloc(48 * 1024, 7).toString('base64')}`;

  function expectBadInput(res: { status: number; json: any }, field: string): void {
    expect(res.status).toBe(200);
    expect(res.json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }

  it('should refuse NUL characters, lone surrogates and out-of-range dates as BAD_USER_INPUT, spending no quota and logging no parameters', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const cursor = (iso: string) => Buffer.from(`${iso}|${uuid}`).toString('base64url');
    const image = (prompt: string) => ({ input: { model: 'google/veo-3.1-i2v-fast', prompt, imageUrl: dataUri } });
    for (let round = 0; round < 2; round++) {
      expectBadInput(await postJson(gw, { query: create, variables: image('a fox\u0000 in snow') }, auth()), 'input.prompt');
      expectBadInput(await postJson(gw, { query: create, variables: image('a fox \ud800 in snow') }, auth()), 'input.prompt');
      expectBadInput(await postJson(gw, { query: create, variables: image('a fox \udfff') }, auth()), 'input.prompt');
    }
    const list = 'query L($after: String) { videoGenerations(first: 5, after: $after) { nodes { id } } }';
    for (const iso of ['0000-01-01T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z']) {
      expectBadInput(await postJson(gw, { query: list, variables: { after: cursor(iso) } }, auth()), 'after');
    }
    const usage = 'query U($since: DateTimeISO) { usage(since: $since) { generations } }';
    expectBadInput(await postJson(gw, { query: usage, variables: { since: '0000-01-01T00:00:00Z' } }, auth()), 'since');
    expectBadInput(await postJson(gw, { query: '{ usage(since: "0000-01-01T00:00:00Z") { generations } }' }, auth()), 'since');

    // None of that spent the owner's creations: both of this minute's still work.
    expect(gw.simulator.control.counts().create).toBe(0);
    for (let i = 0; i < CREATES_PER_MINUTE; i++) {
      const ok = await postJson(gw, { query: create, variables: { input: { model: 'google/veo-3.0-fast', prompt: `fine ${i}` } } }, auth());
      expect(ok.json.errors).toBeUndefined();
    }
    const logs = gw.logs.join('');
    expect(logs).not.toContain('unexpected error');
    expect(logs).not.toContain(dataUri.slice(0, 200));
  });
});
