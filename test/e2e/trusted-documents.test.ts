/**
 * Trusted documents on every transport, in every mode: one real gateway per mode, and the same
 * requests (by identical text, by `documentId`, by APQ hash, ad hoc, by an unknown id) over HTTP
 * POST and GET (fetch), graphql-ws (its client), GraphQL over SSE (graphql-sse's client) and
 * multipart HTTP (a fetch-based reader, which can send `documentId`). Then Apollo's APQ: bounded
 * by bytes, and no way to add a document in require mode. Then the progress page's own client
 * against a production gateway.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { createClient as createSseClient, NetworkError } from 'graphql-sse';
import WebSocket from 'ws';
import { startSimulator } from '../../src/simulator';
import { GatewayClient, GraphQLRequestError } from '../../src/web/graphql-client';
import {
  CancelVideoGenerationDocument,
  CreateVideoGenerationDocument,
  VideoGenerationsDocument,
  VideoGenerationsUpdatedDocument,
  VideoModelsDocument,
  SIMULATOR_KEY,
  startGateway,
  useGateway,
  within,
  wsClient,
  type TestGateway,
} from '../helpers/gateway';

/** Starting a gateway takes seconds, and more on a loaded machine. */
const START_MS = 90_000;

const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../src/web/generated/persisted-documents.json'), 'utf8')) as Record<
  string,
  string
>;
/** The manifest id of the operation named `name`. */
const idOf = (name: string): string => {
  const found = Object.entries(manifest).find(([, text]) => new RegExp(`(query|mutation|subscription) ${name}\\b`).test(text));
  if (!found) throw new Error(`no ${name} in the manifest`);
  return found[0];
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface DocumentRequest {
  query?: string;
  documentId?: string;
  extensions?: Record<string, unknown>;
  variables?: Record<string, unknown>;
}
/** What a client saw: the first result's data, and every error code. */
interface Outcome {
  data: Record<string, unknown> | null;
  codes: string[];
}

const codesOf = (errors: unknown): string[] =>
  Array.isArray(errors) ? errors.map((e) => String((e as { extensions?: { code?: unknown } }).extensions?.code)) : [];

async function overPost(gw: TestGateway, key: string, request: DocumentRequest): Promise<Outcome> {
  const res = await fetch(gw.app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(request),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  return { data: body.data ?? null, codes: codesOf(body.errors) };
}

async function overGet(gw: TestGateway, key: string, request: DocumentRequest): Promise<Outcome> {
  const params = new URLSearchParams();
  if (request.query !== undefined) params.set('query', request.query);
  if (request.documentId !== undefined) params.set('documentId', request.documentId);
  if (request.extensions) params.set('extensions', JSON.stringify(request.extensions));
  if (request.variables) params.set('variables', JSON.stringify(request.variables));
  // Apollo's CSRF prevention lets a GET through with this header.
  const res = await fetch(`${gw.app.url}?${params.toString()}`, { headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true' } });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  return { data: body.data ?? null, codes: codesOf(body.errors) };
}

/** The first result of a subscription over graphql-ws (which needs `query` to be a string, so an id alone comes with ''). */
async function overWs(gw: TestGateway, key: string, request: DocumentRequest): Promise<Outcome> {
  const client = wsClient(gw, key);
  try {
    return await within(
      'a graphql-ws result',
      new Promise<Outcome>((resolve) => {
        const stop = client.subscribe({ ...request, query: request.query ?? '' } as { query: string }, {
          next: (result) => {
            stop();
            resolve({ data: (result.data as Record<string, unknown>) ?? null, codes: codesOf(result.errors) });
          },
          error: (error) => resolve({ data: null, codes: codesOf(error) }),
          complete: () => resolve({ data: null, codes: [] }),
        });
      }),
      20_000,
    );
  } finally {
    await client.dispose();
  }
}

/** The first result over GraphQL over SSE, with graphql-sse's client; a refusal before the stream is its NetworkError. */
async function overSse(gw: TestGateway, key: string, request: DocumentRequest): Promise<Outcome> {
  const client = createSseClient({ url: gw.app.url, headers: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
  try {
    return await within(
      'an SSE result',
      new Promise<Outcome>((resolve) => {
        const stop = client.subscribe(request as { query: string }, {
          next: (result) => {
            stop();
            resolve({ data: (result.data as Record<string, unknown>) ?? null, codes: codesOf(result.errors) });
          },
          error: (error) => {
            const response = error instanceof NetworkError ? error.response : undefined;
            if (!response) return resolve({ data: null, codes: ['NETWORK_ERROR'] });
            void response
              .json()
              .then((body: { errors?: unknown }) => resolve({ data: null, codes: codesOf(body.errors) }))
              .catch(() => resolve({ data: null, codes: [`HTTP_${response.status}`] }));
          },
          complete: () => resolve({ data: null, codes: [] }),
        });
      }),
      20_000,
    );
  } finally {
    client.dispose();
  }
}

/** The first payload of a multipart subscription (Apollo's protocol), read with fetch. */
async function overMultipart(gw: TestGateway, key: string, request: DocumentRequest): Promise<Outcome> {
  const controller = new AbortController();
  const res = await fetch(gw.app.url, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'multipart/mixed;subscriptionSpec="1.0",application/json',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify(request),
  });
  if (!/^multipart\/mixed/.test(res.headers.get('content-type') ?? '')) {
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
    return { data: body.data ?? null, codes: codesOf(body.errors) };
  }
  const read = async (): Promise<Outcome> => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (const part of buffer.split('\r\n--graphql')) {
        const at = part.indexOf('\r\n\r\n');
        if (at === -1) continue;
        let json: { payload?: { data?: Record<string, unknown>; errors?: unknown }; errors?: unknown };
        try {
          json = JSON.parse(part.slice(at + 4)) as typeof json;
        } catch {
          continue; // a part not all here yet
        }
        if (json.payload) return { data: json.payload.data ?? null, codes: codesOf(json.payload.errors) };
        if (json.errors) return { data: null, codes: codesOf(json.errors) };
      }
    }
    return { data: null, codes: [] };
  };
  try {
    return await within('a multipart payload', read(), 20_000);
  } finally {
    controller.abort();
  }
}

type Transport = 'HTTP POST' | 'HTTP GET' | 'graphql-ws' | 'SSE' | 'multipart';
const send: Record<Transport, (gw: TestGateway, key: string, request: DocumentRequest) => Promise<Outcome>> = {
  'HTTP POST': overPost,
  'HTTP GET': overGet,
  'graphql-ws': overWs,
  SSE: overSse,
  multipart: overMultipart,
};
/** HTTP POST and GET run a query; the subscription transports a subscription. */
const isQueryTransport = (t: Transport) => t === 'HTTP POST' || t === 'HTTP GET';

type Form = 'identical text' | 'documentId' | 'APQ hash' | 'ad-hoc text' | 'unknown documentId';
/** 'data', 'refused' (any error, no data), or the one error code expected. */
type Expected = string;

/** What each mode answers each form with: data, a specific code, or any refusal without data. */
const EXPECTED: Record<'off' | 'allow' | 'require', Record<Form, Expected>> = {
  off: { 'identical text': 'data', documentId: 'refused', 'APQ hash': 'refused', 'ad-hoc text': 'data', 'unknown documentId': 'refused' },
  allow: {
    'identical text': 'data',
    documentId: 'data',
    'APQ hash': 'data',
    'ad-hoc text': 'data',
    'unknown documentId': 'PERSISTED_QUERY_NOT_FOUND',
  },
  require: {
    'identical text': 'data',
    documentId: 'data',
    'APQ hash': 'data',
    'ad-hoc text': 'PERSISTED_QUERY_REQUIRED',
    'unknown documentId': 'PERSISTED_QUERY_NOT_FOUND',
  },
};

const TRANSPORTS: Transport[] = ['HTTP POST', 'HTTP GET', 'graphql-ws', 'SSE', 'multipart'];
const FORMS: Form[] = ['identical text', 'documentId', 'APQ hash', 'ad-hoc text', 'unknown documentId'];

describe.each(['off', 'allow', 'require'] as const)('TRUSTED_DOCUMENTS=%s', (mode) => {
  const gw = useGateway({ env: { TRUSTED_DOCUMENTS: mode } }, START_MS);
  let key: string;
  let generationId: string;

  beforeAll(async () => {
    key = await gw.keyFor('alice');
    // The page's own create mutation, as identical text: accepted in every mode.
    const created = await overPost(gw, key, {
      query: manifest[idOf('CreateVideoGeneration')],
      variables: { input: { model: 'google/veo3', prompt: `trusted documents, ${mode}` } },
    });
    generationId = (created.data?.createVideoGeneration as { id: string }).id;
    expect(generationId).toBeTruthy();
  }, START_MS);

  const requestFor = (transport: Transport, form: Form): { request: DocumentRequest; root: string } => {
    const name = isQueryTransport(transport) ? 'VideoModels' : 'VideoGenerationUpdated';
    const root = isQueryTransport(transport) ? 'videoModels' : 'videoGenerationUpdated';
    const variables = isQueryTransport(transport) ? {} : { id: generationId };
    const id = idOf(name);
    const adHoc = isQueryTransport(transport)
      ? 'query AdHoc { videoModels { id } }'
      : 'subscription AdHoc($id: ID!) { videoGenerationUpdated(id: $id) { id status } }';
    const request: Record<Form, DocumentRequest> = {
      'identical text': { query: manifest[id], variables },
      documentId: { documentId: id, variables },
      'APQ hash': { extensions: { persistedQuery: { version: 1, sha256Hash: id.replace(/^sha256:/, '') } }, variables },
      'ad-hoc text': { query: adHoc, variables },
      'unknown documentId': { documentId: `sha256:${'0'.repeat(64)}`, variables },
    };
    return { request: request[form], root };
  };

  const cases = TRANSPORTS.flatMap((transport) => FORMS.map((form) => [transport, form, EXPECTED[mode][form]] as const));

  it.each(cases)('over %s, a request by %s gets %s', async (transport, form, expected) => {
    const { request, root } = requestFor(transport, form);
    const outcome = await send[transport](gw, key, request);
    if (expected === 'data') {
      expect(outcome.codes).toEqual([]);
      expect(outcome.data?.[root]).toBeTruthy();
    } else {
      expect(outcome.data?.[root] ?? null).toBeNull();
      if (expected === 'refused') expect(outcome.codes.length).toBeGreaterThan(0);
      else expect(outcome.codes).toEqual([expected]);
    }
  });

  it('runs the manifest’s document for a known id, whatever text is sent beside it', async () => {
    const outcome = await overPost(gw, key, { documentId: idOf('VideoModels'), query: '{ __typename }' });
    if (mode === 'off') expect(outcome.data).toEqual({ __typename: 'Query' });
    else expect(Object.keys(outcome.data ?? {})).toEqual(['videoModels']);
  });

  if (mode === 'require') {
    it('lets no APQ registration add a document (APQ is off), and keeps no APQ store', async () => {
      const adHoc = '{ adHoc: __typename }';
      const hash = sha256(adHoc);
      const registered = await overPost(gw, key, { query: adHoc, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
      expect(registered.codes).toEqual(['PERSISTED_QUERY_REQUIRED']);
      const byHash = await overPost(gw, key, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
      expect(byHash.codes).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      expect(gw.app.apqCache).toBeNull();
    });
  }
});

describe('Apollo’s automatic persisted queries (TRUSTED_DOCUMENTS=off)', () => {
  const APQ_CACHE_BYTES = 64 * 1024;
  const gw = useGateway({ env: { TRUSTED_DOCUMENTS: 'off', APQ_CACHE_BYTES: String(APQ_CACHE_BYTES) } }, START_MS);

  it('keeps a flood of distinct registrations within APQ_CACHE_BYTES, oldest out first', async () => {
    const key = await gw.keyFor('flooder');
    const REGISTRATIONS = 1_500;
    const WORKERS = 8;
    const text = (i: number) => `{ a${i}: __typename }`;
    const apq = (i: number) => ({ persistedQuery: { version: 1, sha256Hash: sha256(text(i)) } });
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < REGISTRATIONS; i = next++) {
        const outcome = await overPost(gw, key, { query: text(i), extensions: apq(i) });
        expect(outcome.codes).toEqual([]);
      }
    };
    await within('the registrations', Promise.all(Array.from({ length: WORKERS }, worker)), 90_000);

    const cache = gw.app.apqCache!;
    expect(cache.maxBytes).toBe(APQ_CACHE_BYTES);
    expect(cache.bytes).toBeLessThanOrEqual(APQ_CACHE_BYTES);
    // Each entry is charged its key and text as UTF-16 plus bookkeeping (~320 bytes here), so a
    // 64 KiB store holds about two hundred of them, not the thousands their text alone would allow.
    expect(cache.size).toBeGreaterThan(50);
    expect(cache.size).toBeLessThan(400);
    // The first registrations were evicted; the last one is served by its hash alone.
    expect((await overPost(gw, key, { extensions: apq(0) })).codes).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const last = await overPost(gw, key, { extensions: apq(REGISTRATIONS - 1) });
    expect(last.data).toEqual({ [`a${REGISTRATIONS - 1}`]: 'Query' });
  }, 120_000);
});

describe('a production gateway (NODE_ENV=production: require by default, the project’s manifest)', () => {
  const gw = useGateway({ env: { NODE_ENV: 'production' } }, START_MS);

  it('serves every operation of the progress page through the page’s own client, and refuses an ad-hoc document', async () => {
    const key = await gw.keyFor('page-user');
    // The page's client opens graphql-ws with the browser's WebSocket; Node 20 has none.
    const globals = globalThis as { WebSocket?: unknown };
    const hadWebSocket = 'WebSocket' in globals;
    const previous = globals.WebSocket;
    globals.WebSocket = WebSocket;
    const client = new GatewayClient(gw.app.url, key);
    try {
      const { videoModels } = await new GatewayClient(gw.app.url, '').request(VideoModelsDocument, {});
      expect(videoModels.length).toBeGreaterThan(0);
      const updates: unknown[] = [];
      const errors: unknown[] = [];
      const stop = client.subscribe(
        VideoGenerationsUpdatedDocument,
        {},
        (data) => updates.push(data),
        (error) => errors.push(error),
      );
      const { createVideoGeneration } = await client.request(CreateVideoGenerationDocument, {
        input: { model: 'google/veo3', prompt: 'the page in production' },
      });
      const { videoGenerations } = await client.request(VideoGenerationsDocument, { first: 20 });
      expect(videoGenerations.edges.map((e) => e.node.id)).toContain(createVideoGeneration.id);
      const deadline = Date.now() + 20_000;
      while (updates.length === 0 && errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(errors).toEqual([]);
      expect(updates.length).toBeGreaterThan(0);
      stop();
      const { cancelVideoGeneration } = await client.request(CancelVideoGenerationDocument, { id: createVideoGeneration.id });
      expect(cancelVideoGeneration.id).toBe(createVideoGeneration.id);

      // An ad-hoc document, sent the page's way and by plain fetch: the clear code, nothing run.
      const adHocDocument = parse('query AdHoc { videoModels { id } }') as unknown as typeof VideoModelsDocument;
      const refused = await client.request(adHocDocument, {}).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(GraphQLRequestError);
      expect((refused as GraphQLRequestError).code).toBe('PERSISTED_QUERY_REQUIRED');
      expect(await overPost(gw, key, { query: '{ videoModels { id } }' })).toEqual({ data: null, codes: ['PERSISTED_QUERY_REQUIRED'] });
    } finally {
      client.close();
      if (hadWebSocket) globals.WebSocket = previous;
      else delete globals.WebSocket;
    }
  });
});

describe('a manifest that cannot be used', () => {
  it(
    'stops the start, naming the setting and the file',
    async () => {
      const missing = path.join(__dirname, 'no-such-manifest.json');
      // Our own simulator: a gateway that fails to start leaves the one it would have stopped running.
      const simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale: 0.01, seed: 1 });
      try {
        await expect(
          startGateway({ simulator, env: { TRUSTED_DOCUMENTS: 'require', TRUSTED_DOCUMENTS_MANIFESTS: `project,${missing}` } }),
        ).rejects.toThrow(/TRUSTED_DOCUMENTS_MANIFESTS: .*no-such-manifest\.json: cannot be read/);
      } finally {
        await simulator.stop();
      }
    },
    START_MS,
  );
});
