/**
 * Transport-level abuse (reference/reliability-security.md §4.1–4.3), over HTTP and over
 * graphql-ws, SSE and multipart HTTP: every probe is refused with a 4xx (or a GraphQL error / close code), never a 5xx,
 * and the WebSocket path gets the same document limits as HTTP. After every probe the process is
 * still healthy, and the canary upstream key appears nowhere.
 */
import { request } from 'node:http';
import WebSocket from 'ws';
import { CREATE, WATCH_ALL, collect, sleep, startGateway, waitFor, wsClient, type TestGateway } from '../helpers/gateway';
import {
  checkAfterProbes,
  expectCanaryAbsent,
  expectHealthy,
  expectJson4xx,
  expectRefusedDocument,
  expectWsRefused,
  overHttpStream,
  overWs,
  postJson,
  send,
} from '../helpers/probes';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const depthQuery = `{ __type(name: "Query") { fields { type { fields { type { fields { type { ofType { ofType { ofType { name } } } } } } } } } } }`;
const depthViaFragments = `
  query { __type(name: "Query") { ...A } }
  fragment A on __Type { fields { type { ...B } } }
  fragment B on __Type { fields { type { ...C } } }
  fragment C on __Type { fields { type { ofType { ofType { ofType { name } } } } } }
`;
const depthSubscription = `subscription { videoGenerationsUpdated { settings { a { b { c { d { e { f { g { h } } } } } } } } } }`;
const aliasFlood = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
const aliasFloodSubscription = (n: number) =>
  `subscription { videoGenerationsUpdated { ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} } }`;
const directiveFlood = `{ videoModels { ${Array.from({ length: 7 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`;
/** `first` multiplies a list's cost: 100 rows of this selection cost about 8 800 units (limit 5 000). */
const costly = (first: number) =>
  `{ videoGenerations(first: ${first}) { edges { cursor node { id prompt status version progress etaSeconds createdAt updatedAt
    settings { seed imageUrl aspectRatio resolution durationSeconds } transitions { status at } } } } }`;
const tokenFlood = `{ videoModels { ${'id '.repeat(2_100)}} }`;
const tokenFloodSubscription = `subscription { videoGenerationsUpdated { ${'id '.repeat(2_100)}} }`;

describe('HTTP transport', () => {
  let gw: TestGateway;
  let small: TestGateway;
  let key: string;

  beforeAll(async () => {
    [gw, small] = await Promise.all([startGateway(), startGateway({ env: { HTTP_MAX_BODY_BYTES: '2048' } })]);
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  afterEach(() => Promise.all([expectHealthy(gw), expectHealthy(small)]));
  afterAll(async () => {
    await expectCanaryAbsent(gw, small);
    await Promise.all([gw?.stop(), small?.stop()]);
  });

  it('should answer malformed JSON with a 400 JSON body', async () => {
    for (const body of ['{"query": "{ videoModels { id } }"', '{', 'null x', '\u0000']) {
      expectJson4xx(await postJson(gw, body), 400);
    }
  });

  it('should answer empty or shapeless bodies with a JSON 400', async () => {
    for (const body of ['', '{}', '{"query": 5}', '{"query": null}', '"just a string"', '[]']) {
      expectJson4xx(await postJson(gw, body), 400);
    }
  });

  it('should answer a non-UTF-8 charset with 415', async () => {
    for (const charset of ['latin1', 'utf-16', 'UTF-7', 'iso-8859-1', '"utf-32"']) {
      const res = await send(gw.app.url, {
        method: 'POST',
        headers: { 'content-type': `application/json; charset=${charset}` },
        body: JSON.stringify({ query: '{ videoModels { id } }' }),
      });
      expectJson4xx(res, 415);
    }
    // Control: explicit UTF-8 is fine.
    const ok = await send(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ query: '{ videoModels { id } }' }),
    });
    expect(ok.status).toBe(200);
  });

  it('should answer a body over HTTP_MAX_BODY_BYTES with a JSON 413, declared or streamed', async () => {
    const big = JSON.stringify({ query: `{ videoModels { id } } # ${'x'.repeat(4_000)}` });
    expectJson4xx(await postJson(small, big), 413);

    // Chunked, no Content-Length: the limit is enforced while reading.
    const streamed = await new Promise<{ status: number; text: string; type: string | undefined }>((resolve, reject) => {
      const req = request(small.app.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text, type: res.headers['content-type'] }));
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write('x'.repeat(1_000));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(streamed.type).toMatch(/json/);
    expect(JSON.parse(streamed.text).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');

    // The same gateway still serves small requests.
    expect((await postJson(small, { query: '{ videoModels { id } }' })).status).toBe(200);
  });

  it('should refuse batched requests', async () => {
    for (const n of [1, 2, 200]) {
      const batch = Array.from({ length: n }, () => ({ query: '{ videoModels { id } }' }));
      const res = await postJson(gw, batch);
      expectJson4xx(res);
      expect(res.text).not.toContain('"videoModels"');
    }
  });

  it('should refuse a mutation over GET and create nothing', async () => {
    const query = encodeURIComponent('mutation { createVideoGeneration(input: { model: "google/veo-3.0-fast", prompt: "get" }) { id } }');
    const res = await send(`${gw.app.url}?query=${query}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${key}` },
    });
    expectJson4xx(res, [400, 405]);
    expect(gw.simulator.control.counts().create).toBe(0);
  });

  it('should refuse CSRF-shaped requests with 400 (415 for a GET with a non-JSON content type)', async () => {
    const query = '{ videoModels { id } }';
    // GET without a preflight-forcing header.
    const get = await send(`${gw.app.url}?query=${encodeURIComponent(query)}`, {});
    expectJson4xx(get, 400);
    expect(get.text).not.toContain('"videoModels"');
    // Simple-request content types on POST.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await send(gw.app.url, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${key}` },
        body: JSON.stringify({
          query: 'mutation { createVideoGeneration(input: { model: "google/veo-3.0-fast", prompt: "csrf" }) { id } }',
        }),
      });
      expectJson4xx(res, 400);
    }
    // GET with a text/plain content type: refused (415 since Apollo Server 5.5).
    const getPlain = await send(`${gw.app.url}?query=${encodeURIComponent(query)}`, {
      headers: { 'content-type': 'text/plain' },
    });
    expectJson4xx(getPlain, [400, 415]);
    expect(gw.simulator.control.counts().create).toBe(0);

    // Control: a GET with the preflight header works.
    const ok = await send(`${gw.app.url}?query=${encodeURIComponent(query)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(ok.status).toBe(200);
  });

  it('should refuse documents over the depth limit, directly and through fragments', async () => {
    expectRefusedDocument(await postJson(gw, { query: depthQuery }), /depth/i);
    expectRefusedDocument(await postJson(gw, { query: depthViaFragments }), /depth/i);
  });

  it('should refuse alias floods, of real fields and of __typename', async () => {
    expectRefusedDocument(await postJson(gw, { query: aliasFlood(16, 'videoModels { id }') }), /alias/i);
    expectRefusedDocument(await postJson(gw, { query: aliasFlood(16, '__typename') }), /alias/i);
    expectRefusedDocument(await postJson(gw, { query: aliasFlood(101, '__typename') }), /alias/i);
    // Control: 15 aliases pass.
    const ok = await postJson(gw, { query: aliasFlood(15, '__typename') });
    expect(ok.status).toBe(200);
  });

  it('should refuse too many directives', async () => {
    expectRefusedDocument(await postJson(gw, { query: directiveFlood }), /directive/i);
    const unknown = `{ videoModels { id ${'@aa '.repeat(100)}} }`;
    const res = await postJson(gw, { query: unknown });
    expectRefusedDocument(res);
    // Bounded error list (graphql-js stops after 100 validation errors), whatever the document size.
    expect(res.json.errors.length).toBeLessThanOrEqual(101);
    const more = await postJson(gw, { query: `{ videoModels { id ${'@aa '.repeat(1_500)}} }` });
    expectRefusedDocument(more);
    expect(more.json.errors.length).toBeLessThanOrEqual(101);
  });

  it('should refuse a document over the cost limit', async () => {
    expectRefusedDocument(await postJson(gw, { query: costly(100) }, { authorization: `Bearer ${key}` }), /cost/i);
    // Control: the same selection on a page of 20 is fine.
    const ok = await postJson(gw, { query: costly(20) }, { authorization: `Bearer ${key}` });
    expect(ok.status).toBe(200);
    expect(ok.json.data.videoGenerations.edges).toEqual([]);
  });

  it('should refuse a token flood before validating it', async () => {
    expectRefusedDocument(await postJson(gw, { query: tokenFlood }), /token/i);
    const fieldCopies = `{ videoModels { ${'id '.repeat(600)}} }`;
    const res = await postJson(gw, { query: fieldCopies });
    expect(res.status).toBeLessThan(500);
  });

  it('should answer unknown paths with a JSON 404', async () => {
    for (const path of ['/nope', '/graphql/extra', '/GRAPHQL', '//?query=', '/graphql%00', '/healthz/../nope']) {
      const base = new URL(gw.app.url);
      const res = await send(`${base.origin}${path}`, {});
      expectJson4xx(res, 404);
    }
  });

  it('should refuse a WebSocket upgrade on an unknown path with a 4xx', async () => {
    const base = new URL(gw.app.wsUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${base.origin}/nope`, 'graphql-transport-ws');
      socket.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode!);
        res.resume();
        socket.terminate();
      });
      socket.on('open', () => {
        socket.close();
        reject(new Error('upgrade accepted on an unknown path'));
      });
      socket.on('error', () => {});
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });
});

describe('WebSocket transport', () => {
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    gw = await startGateway();
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  checkAfterProbes(() => gw);

  it('should refuse queries and mutations over WebSocket without executing them', async () => {
    const query = await overWs(gw, key, '{ videoModels { id } }');
    expectWsRefused(query, /subscription/i);

    const mutation = await overWs(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'over ws' } });
    expectWsRefused(mutation, /subscription/i);
    const inline = await overWs(gw, key, 'mutation { createVideoGeneration(input: { model: "google/veo-3.0-fast", prompt: "ws" }) { id } }');
    expectWsRefused(inline);
    // Picking the mutation out of a mixed document by name is refused too.
    const mixed = await overWs(
      gw,
      key,
      'subscription S { videoGenerationsUpdated { id } } mutation M { createVideoGeneration(input: { model: "google/veo-3.0-fast", prompt: "ws" }) { id } }',
    );
    expectWsRefused(mixed);

    await sleep(100);
    expect(gw.simulator.control.counts().create).toBe(0);
    const listed = await fetch(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ videoGenerations { nodes { id } } }' }),
    }).then((r) => r.json() as Promise<any>);
    expect(listed.data.videoGenerations.nodes).toEqual([]);
  });

  it('should apply the depth, alias, directive, token and cost limits over WebSocket', async () => {
    expectWsRefused(await overWs(gw, key, depthQuery), /depth/i);
    expectWsRefused(await overWs(gw, key, depthSubscription), /depth/i);
    expectWsRefused(await overWs(gw, key, aliasFloodSubscription(16)), /alias/i);
    expectWsRefused(await overWs(gw, key, aliasFlood(101, '__typename')), /alias/i);
    expectWsRefused(
      await overWs(
        gw,
        key,
        `subscription { videoGenerationsUpdated { ${Array.from({ length: 7 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`,
      ),
      /directive/i,
    );
    expectWsRefused(await overWs(gw, key, tokenFloodSubscription), /token/i);
    expectWsRefused(await overWs(gw, key, costly(100)), /cost/i);
    // Control: a valid subscription is accepted (it stays open, so nothing ends it in 3 s).
    const frames: string[] = [];
    const client = wsClient(gw, key, { frames });
    const ok = collect(client, WATCH_ALL);
    await waitFor('the subscription to start', async () => ((await gw.app.metrics.subscriptions.get()).values[0]?.value ?? 0) >= 1);
    expect(ok.errors).toEqual([]);
    ok.unsubscribe();
    await client.dispose();
  });
});

describe.each(['sse', 'multipart'] as const)('subscriptions over %s', (transport) => {
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    gw = await startGateway();
    key = await gw.keyFor('alice');
  }, 60_000);
  checkAfterProbes(() => gw);

  const over = (query: string, variables?: Record<string, unknown>) => overHttpStream(gw, transport, key, query, variables);

  it('should apply the depth, alias, directive and token limits to subscriptions, as over WebSocket', async () => {
    expectWsRefused(await over(depthSubscription), /depth/i);
    expectWsRefused(await over(aliasFloodSubscription(16)), /alias/i);
    expectWsRefused(
      await over(`subscription { videoGenerationsUpdated { ${Array.from({ length: 7 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`),
      /directive/i,
    );
    expectWsRefused(await over(tokenFloodSubscription), /token/i);
    // Control: a valid subscription is accepted and stays open.
    const ok = await over(WATCH_ALL);
    expect(ok.errors).toEqual([]);
  });

  // A query or mutation with a multipart Accept is an ordinary request for Apollo (its limits are the
  // HTTP probes above); an SSE stream serves subscriptions only, as graphql-ws does.
  if (transport === 'sse') {
    it('should refuse queries and mutations over SSE without executing them, and apply the limits to them', async () => {
      expectWsRefused(await over('{ videoModels { id } }'), /subscription/i);
      expectWsRefused(await over(CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'over sse' } }), /subscription/i);
      expectWsRefused(await over(depthQuery), /depth/i);
      expectWsRefused(await over(aliasFlood(101, '__typename')), /alias/i);
      expectWsRefused(await over(costly(100)), /cost/i);
      await sleep(100);
      expect(gw.simulator.control.counts().create).toBe(0);
    });
  }
});

describe.each([
  ['NODE_ENV=production', { NODE_ENV: 'production', TRUSTED_DOCUMENTS: 'off' }],
  ['INTROSPECTION=false', { INTROSPECTION: 'false' }],
])('introspection off (%s)', (_name, env) => {
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    gw = await startGateway({ env });
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  checkAfterProbes(() => gw);

  const introspection = [
    '{ __schema { types { name } } }',
    '{ __type(name: "Query") { name fields { name } } }',
    'query { videoModels { id } __schema { queryType { name } } }',
  ];

  it('should refuse introspection over HTTP', async () => {
    for (const query of introspection) {
      const res = await postJson(gw, { query }, { authorization: `Bearer ${key}` });
      expectRefusedDocument(res, /introspection/i);
      expect(res.text).not.toContain('queryType":');
    }
    // __typename is not introspection of the schema.
    const ok = await postJson(gw, { query: '{ __typename }' });
    expect(ok.status).toBe(200);
  });

  it('should refuse introspection over WebSocket', async () => {
    for (const query of introspection) {
      const out = await overWs(gw, key, query);
      expectWsRefused(out, /introspection/i);
      expect(out.frames.join('\n')).not.toContain('"types"');
    }
  });

  const typos: Array<[string, Record<string, unknown> | undefined]> = [
    ['{ videoModel { id } }', undefined],
    ['{ videoModels { idd } }', undefined],
    ['{ videoGenerations(frist: 1) { nodes { id } } }', undefined],
    ['{ videoGenerations(filter: { status: [QUEUD] }) { nodes { id } } }', undefined],
    ['query Q($f: VideoGenerationFiltr) { videoGenerations(filter: $f) { nodes { id } } }', undefined],
    ['query Q($s: [GenerationStatus!]) { videoGenerations(filter: { status: $s }) { nodes { id } } }', { s: ['QUEUD'] }],
    [CREATE, { input: { modle: 'google/veo-3.0-fast', prompt: 'x' } }],
    [CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'x', aspectRatio: 'LANDSCAPE_16_99' } }],
  ];
  const wsTypos: Array<[string, Record<string, unknown> | undefined]> = [
    ['subscription { videoGenerationUpdate(id: "x") { id } }', undefined],
    ['subscription { videoGenerationsUpdated { idd } }', undefined],
    ['subscription { videoGenerationsUpdated(statuss: [QUEUED]) { id } }', undefined],
    ['subscription { videoGenerationsUpdated(status: [QUEUD]) { id } }', undefined],
    ['subscription S($s: [GenerationStatus!]) { videoGenerationsUpdated(status: $s) { id } }', { s: ['QUEUD'] }],
    ['subscription S($s: [GenerationStatuss!]) { videoGenerationsUpdated(status: $s) { id } }', undefined],
    ...typos,
  ];

  it('should never suggest field, argument, type or enum names over HTTP', async () => {
    for (const [query, variables] of typos) {
      const res = await postJson(gw, { query, variables }, { authorization: `Bearer ${key}` });
      expectJson4xx(res, 400);
      expect(res.text).not.toMatch(/did you mean/i);
    }
  });

  it.each(['sse', 'multipart'] as const)('should never suggest names in subscriptions over %s', async (transport) => {
    for (const [query, variables] of wsTypos.filter(([q]) => q.startsWith('subscription'))) {
      const out = await overHttpStream(gw, transport, key, query, variables);
      expectWsRefused(out);
      expect(out.frames.join('\n')).not.toMatch(/did you mean/i);
    }
  });

  it('should never suggest field, argument, type or enum names over WebSocket', async () => {
    for (const [query, variables] of wsTypos) {
      const out = await overWs(gw, key, query, variables);
      expectWsRefused(out);
      expect(out.frames.join('\n')).not.toMatch(/did you mean/i);
    }
  });
});
