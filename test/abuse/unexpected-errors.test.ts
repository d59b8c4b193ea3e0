/**
 * Unexpected errors (a store that fails mid-request, with a secret in its message) are logged once,
 * by the gateway's own redacting logger, and masked for the client on both transports. The failure
 * is injected into the live gateway's store for the length of one request, then removed.
 */
import { randomUUID } from 'node:crypto';
import { GET, SIMULATOR_KEY, WATCH, collect, gql, startGateway, waitFor, wsClient, type TestGateway } from '../helpers/gateway';
import { expectHealthy, recordSeen, expectCanaryAbsent } from '../helpers/probes';
import WebSocket from 'ws';
import type { Store } from '../../src/store/store';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

/** Makes `method` of the gateway's store throw an error that carries the canary key, until restored. */
function breakStore(gw: TestGateway, method: keyof Store & ('findApiKeyByHash' | 'getGenerations')): () => void {
  const store = gw.app.store as unknown as Record<string, unknown>;
  store[method] = async () => {
    throw new Error(`connection to the database lost (upstream key ${SIMULATOR_KEY})`);
  };
  return () => delete store[method];
}

const logLines = (gw: TestGateway, text: string) => gw.logs.filter((l) => l.includes(text));

describe('unexpected errors', () => {
  let gw: TestGateway;
  let key: string;
  let consoleError: jest.SpyInstance;

  beforeAll(async () => {
    gw = await startGateway();
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  beforeEach(() => {
    consoleError = jest.spyOn(console, 'error');
  });
  afterEach(async () => {
    // Nothing reached the console behind the logger's back.
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
    await expectHealthy(gw);
  });
  afterAll(async () => {
    await expectCanaryAbsent(gw);
    await gw?.stop();
  });

  it('should answer HTTP with a masked 500 and log the error once', async () => {
    const restore = breakStore(gw, 'findApiKeyByHash');
    try {
      const res = await gql(gw, key, '{ videoGenerations { nodes { id } } }');
      recordSeen(res.text);
      expect(res.status).toBe(500);
      expect(res.body.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    } finally {
      restore();
    }
    expect(logLines(gw, 'unexpected error while handling an HTTP request')).toHaveLength(1);
  });

  it('should close a WebSocket whose authentication fails unexpectedly with 4500 and log it once', async () => {
    const restore = breakStore(gw, 'findApiKeyByHash');
    try {
      const socket = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws');
      socket.on('error', () => {});
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
      const [code, reason] = await new Promise<[number, string]>((resolve) => socket.once('close', (c, r) => resolve([c, r.toString()])));
      recordSeen(reason);
      expect(code).toBe(4500);
      expect(reason).toBe('Internal server error');
    } finally {
      restore();
    }
    expect(logLines(gw, 'unexpected error while authenticating a WebSocket connection')).toHaveLength(1);
  });

  it('should send a masked error for a subscription whose resolver fails, and log it once', async () => {
    const before = logLines(gw, 'unexpected error while resolving').length;
    const restore = breakStore(gw, 'getGenerations');
    const frames: string[] = [];
    const client = wsClient(gw, key, { frames });
    try {
      const sub = collect(client, WATCH, { id: randomUUID() });
      await sub.done;
      recordSeen(...frames);
      expect(sub.values).toEqual([]);
      expect(sub.errors.flat()).toEqual([
        expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
      ]);
      // Over HTTP as well.
      const res = await gql(gw, key, GET, { id: randomUUID() });
      recordSeen(res.text);
      expect(res.body.errors?.[0]).toEqual(expect.objectContaining({ message: 'Internal server error' }));
    } finally {
      restore();
      await client.dispose();
    }
    await waitFor('the log lines', () => logLines(gw, 'unexpected error while resolving').length >= before + 2);
    expect(logLines(gw, 'unexpected error while resolving')).toHaveLength(before + 2);
    // The log line has the error, with the key cut out.
    expect(logLines(gw, 'unexpected error while resolving').join('')).toContain('connection to the database lost');
  });
  // Last: its successful authentication puts the key in the API-key cache, which the tests above must not find.
  it('should answer a query whose resolver fails unexpectedly with a masked HTTP 500, and log it once without its parameters', async () => {
    const before = logLines(gw, 'unexpected error while resolving').length;
    const store = gw.app.store as unknown as Record<string, unknown>;
    const bigParameter = `data:image/png;base64,${'A'.repeat(100_000)}`;
    // A database error as PGlite raises it: with the statement's whole parameter list attached.
    store['listGenerationKeys'] = async () => {
      throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
        code: '22021',
        query: 'SELECT id, version FROM generations WHERE owner = $1 AND model = ANY($2::text[])',
        params: ['alice', ['google/veo3'], bigParameter],
      });
    };
    try {
      // A non-null root field: the error leaves no data at all, so the answer is a 500.
      const res = await gql(gw, key, '{ videoGenerations(first: 5) { nodes { id } } }');
      recordSeen(res.text);
      expect(res.status).toBe(500);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors).toEqual([expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    } finally {
      delete store['listGenerationKeys'];
    }
    const lines = logLines(gw, 'unexpected error while resolving');
    expect(lines).toHaveLength(before + 1);
    expect(lines.at(-1)).toContain('22021');
    expect(lines.at(-1)).toContain('"paramsCount":3');
    expect(lines.at(-1)).not.toContain('A'.repeat(2_000));
  });
});
