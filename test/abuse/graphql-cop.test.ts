/**
 * The twelve probes of graphql-cop 1.15 (reliability-security.md §2.1), as our own tests: each sends
 * graphql-cop's request and asserts the opposite of the condition it flags. graphql-cop speaks only
 * HTTP; the probes that carry a document are also sent over graphql-ws, where Apollo's protections
 * do not reach. They run against a production gateway (NODE_ENV=production); the probes that do not
 * depend on production settings also run against a development one.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { checkAfterProbes, expectJson4xx, overWs, postJson, send, type Raw } from '../helpers/probes';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const FIELD_SUGGESTIONS = 'query cop { __schema { directive } }';
const INTROSPECTION = 'query cop { __schema { types { name fields { name } } } }';
const ALIAS_OVERLOADING = `query cop { ${Array.from({ length: 101 }, (_, i) => `alias${i}:__typename`).join(' ')} }`;
const DIRECTIVE_OVERLOADING = `query cop { __typename ${'@aa'.repeat(10)} }`;
const CIRCULAR_INTROSPECTION = 'query cop { __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }';
const UNHANDLED_ERROR = 'qwerty cop { abc }';

const errorMessages = (errors: Array<{ message?: string }> | undefined) => (errors ?? []).map((e) => e.message ?? '').join('\n');

describe.each([
  ['production', { NODE_ENV: 'production', TRUSTED_DOCUMENTS: 'off' }],
  ['development', {}],
])('graphql-cop probes against a %s gateway', (mode, env) => {
  const production = mode === 'production';
  let gw: TestGateway;
  let key: string;
  const auth = () => ({ authorization: `Bearer ${key}` });
  const get = (query: string, headers: Record<string, string> = {}) =>
    send(`${gw.app.url}?query=${encodeURIComponent(query)}`, { headers: { ...auth(), ...headers } });

  beforeAll(async () => {
    gw = await startGateway({ env });
    key = await gw.keyFor('cop');
  }, START_TIMEOUT_MS);
  checkAfterProbes(() => gw);

  const onlyInProduction = production ? it : it.skip;

  // Flags when the first error message contains "Did you mean".
  it('field_suggestions: no "Did you mean" hint, over HTTP and WebSocket', async () => {
    const res = await postJson(gw, { query: FIELD_SUGGESTIONS }, auth());
    expectJson4xx(res, 400);
    expect(res.text).not.toMatch(/did you mean/i);
    const ws = await overWs(gw, key, FIELD_SUGGESTIONS);
    expect(ws.errors.length).toBeGreaterThan(0);
    expect(ws.frames.join('\n')).not.toMatch(/did you mean/i);
  });

  // Flags when `data.__schema.types` is present. Introspection is on outside production, by design.
  onlyInProduction('introspection: no schema types, over HTTP and WebSocket', async () => {
    const res = await postJson(gw, { query: INTROSPECTION }, auth());
    expectJson4xx(res, 400);
    expect(res.json.data?.__schema?.types).toBeUndefined();
    const ws = await overWs(gw, key, INTROSPECTION);
    expect(ws.values).toEqual([]);
    expect(ws.frames.join('\n')).not.toContain('"types"');
  });

  // Flags when an HTML page carries GraphiQL or Playground markers. A playground is meant for
  // development (issue 3), so this is asserted in production.
  onlyInProduction('detect_graphiql: no GraphiQL or Playground page', async () => {
    const origin = new URL(gw.app.url).origin;
    for (const path of ['/graphql', '/graphiql', '/playground', '/console', '/graphql/console', '/explorer', '/altair']) {
      const res = await send(`${origin}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status).toBeLessThan(500);
      expect(res.text).not.toMatch(/graphiql|graphql-playground|altair/i);
    }
  });

  // Flags when a GET `{__typename}` returns data (a CSRF risk: GETs are simple requests).
  it('get_method_support: a GET without a preflight header returns no data', async () => {
    const res = await get('{__typename}');
    expectJson4xx(res, 400);
    expect(res.json.data).toBeUndefined();
  });

  // Flags when a GET mutation returns data.
  it('get_based_mutation: a mutation over GET returns no data, preflight header or not', async () => {
    for (const headers of [{}, { 'apollo-require-preflight': 'true' }] as Array<Record<string, string>>) {
      const res = await get('mutation cop {__typename}', headers);
      expectJson4xx(res, [400, 405]);
      expect(res.json.data).toBeUndefined();
    }
  });

  // Flags when a form-encoded POST returns data.
  it('post_based_csrf: a form-encoded POST returns no data', async () => {
    const res = await send(gw.app.url, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent('query cop {__typename}')}`,
    });
    expectJson4xx(res, 400);
    expect(res.json.data).toBeUndefined();
  });

  // Flags when `data.alias100` is present.
  it('alias_overloading: 101 aliases of __typename are refused, over HTTP and WebSocket', async () => {
    const res = await postJson(gw, { query: ALIAS_OVERLOADING }, auth());
    expectJson4xx(res, 400);
    expect(res.json.data?.alias100).toBeUndefined();
    const ws = await overWs(gw, key, ALIAS_OVERLOADING);
    expect(ws.values).toEqual([]);
    expect(errorMessages(ws.errors)).toMatch(/alias/i);
  });

  // Flags when ten queries sent as one JSON array give ten results.
  it('batch_query: a batch of ten is refused as a whole', async () => {
    const res = await postJson(
      gw,
      Array.from({ length: 10 }, () => ({ query: 'query cop { __typename }' })),
      auth(),
    );
    expectJson4xx(res, 400);
    expect(Array.isArray(res.json)).toBe(false);
  });

  // Flags when exactly ten errors come back (each repeated directive evaluated).
  it('directive_overloading: ten directives are refused by the directive limit, over HTTP and WebSocket', async () => {
    const res = await postJson(gw, { query: DIRECTIVE_OVERLOADING }, auth());
    expectJson4xx(res, 400);
    expect(res.json.data).toBeUndefined();
    expect(errorMessages(res.json.errors)).toMatch(/directive/i);
    expect(res.json.errors).not.toHaveLength(10);
    const ws = await overWs(gw, key, DIRECTIVE_OVERLOADING);
    expect(ws.values).toEqual([]);
    expect(errorMessages(ws.errors)).toMatch(/directive/i);
    expect(ws.errors).not.toHaveLength(10);
  });

  // Flags when more than 25 types come back.
  it('circular_query_introspection: refused, over HTTP and WebSocket', async () => {
    const res = await postJson(gw, { query: CIRCULAR_INTROSPECTION }, auth());
    expectJson4xx(res, 400);
    expect(res.json.data).toBeUndefined();
    const ws = await overWs(gw, key, CIRCULAR_INTROSPECTION);
    expect(ws.values).toEqual([]);
    expect(ws.errors.length).toBeGreaterThan(0);
  });

  // Flags when `extensions.tracing` is present.
  it('trace_mode: no tracing in responses, over HTTP and WebSocket', async () => {
    const res = await postJson(gw, { query: 'query cop { __typename }' }, auth());
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({ __typename: 'Query' });
    expect(res.json.extensions?.tracing).toBeUndefined();
    expect(res.text).not.toMatch(/tracing|ftv1/i);
    const ws = await overWs(gw, key, 'subscription cop { videoGenerationsUpdated { id } __typename }');
    expect(ws.frames.join('\n')).not.toMatch(/tracing|ftv1/i);
  });

  // Flags when `extensions.exception` is present.
  it('unhandled_error_detection: an invalid document gets a clean parse error, over HTTP and WebSocket', async () => {
    const res: Raw = await postJson(gw, { query: UNHANDLED_ERROR }, auth());
    expectJson4xx(res, 400);
    for (const error of res.json.errors) {
      expect(error.extensions?.exception).toBeUndefined();
      expect(error.extensions?.stacktrace).toBeUndefined();
      expect(error.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    }
    const ws = await overWs(gw, key, UNHANDLED_ERROR);
    expect(ws.values).toEqual([]);
    expect(ws.errors[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(ws.frames.join('\n')).not.toMatch(/exception|stacktrace/i);
  });
});
