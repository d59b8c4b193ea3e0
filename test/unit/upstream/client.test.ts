import { closeSync, openSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUpstreamClient, provesNotSent, type UpstreamClientOptions } from '../../../src/upstream/client';
import { parseRetryAfter } from '../../../src/upstream/health/retry-delay';
import { LocalRequestBudget } from '../../../src/upstream/budget/request-budget';
import { UpstreamError, UpstreamFailure, type UpstreamClient } from '../../../src/upstream/types';
import { startSimulator } from '../../../src/simulator';

const KEY = 'sk-test-9f8e7d6c5b4a39281706';
const INPUT = { model: 'google/veo3', prompt: 'a fox in snow', durationSeconds: 8, resolution: '720p' as const };
const JOB = {
  id: '7c1e4b2a-93d5-4f0e-b8a1-2d6f0c9e5a13:google/veo-3.1-t2v',
  status: 'queued',
  meta: { usage: { credits_used: 6400000, usd_spent: 3.2 } },
};

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen, n: number) => void;

interface TestServer {
  url: string;
  seen: Seen[];
  server: http.Server;
  count(method: string): number;
  close(): Promise<void>;
}

/** A real HTTP server: the handler runs after the request body has been read in full. */
async function startServer(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      handler(req, res, s, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    server,
    count: (method) => seen.filter((s) => s.method === method).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const FAST: Partial<UpstreamClientOptions> = {
  connectTimeoutMs: 500,
  headersTimeoutMs: 300,
  createHeadersTimeoutMs: 300,
  bodyTimeoutMs: 300,
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 50,
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(
  handler: Handler,
  options: Partial<UpstreamClientOptions> = {},
): Promise<{ srv: TestServer; client: UpstreamClient; calls: Array<[string, string, number]> }> {
  const srv = await startServer(handler);
  const calls: Array<[string, string, number]> = [];
  const client = createUpstreamClient({
    baseUrl: srv.url,
    apiKey: KEY,
    ...FAST,
    observer: (endpoint, outcome, seconds) => calls.push([endpoint, outcome, seconds]),
    ...options,
  });
  // Client first: closing it waits for its sockets, then the server drops whatever is left.
  cleanups.push(() => srv.close());
  cleanups.push(() => client.stop());
  return { srv, client, calls };
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UpstreamError);
    const err = e as UpstreamError;
    // The key never leaks through any property.
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(KEY);
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('create', () => {
  it.each([200, 201])('accepts HTTP %i and sends the wire body with the right headers', async (status) => {
    const { srv, client, calls } = await setup((_req, res) => json(res, status, JOB));
    const job = await client.create(INPUT);
    expect(job).toEqual({
      upstreamId: JOB.id,
      status: 'queued',
      video: null,
      error: null,
      usage: { credits: 6400000, usd: 3.2 },
    });
    expect(srv.seen).toHaveLength(1);
    const [req] = srv.seen;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v2/video/generations');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers['user-agent']).toBeTruthy();
    expect(JSON.parse(req.body)).toEqual({ model: 'google/veo3', prompt: 'a fox in snow', duration: 8, resolution: '720P' });
    expect(calls).toEqual([['create', String(status), expect.any(Number)]]);
  });

  it('maps 400 to REJECTED with the cleaned message and the key redacted', async () => {
    const { client, calls } = await setup((req, res) =>
      json(res, 400, {
        statusCode: 400,
        message: `Body validation error!\nInvalid enum value at "duration" (sent with ${req.headers.authorization})`,
        path: '/v2/video/generations',
      }),
    );
    const err = await failure(client.create(INPUT));
    expect(err.failure).toBe(UpstreamFailure.REJECTED);
    expect(err.httpStatus).toBe(400);
    expect(err.message).toMatch(/^Body validation error! Invalid enum value at "duration"/);
    expect(err.message).toContain('[redacted]');
    expect(err.message).not.toContain(KEY);
    expect(calls.map((c) => c[1])).toEqual(['400']);
  });

  it('maps 429 to RATE_LIMITED with Retry-After in seconds or as an HTTP date', async () => {
    const { client } = await setup((_req, res, _s, n) =>
      json(
        res,
        429,
        { statusCode: 429, message: 'Too Many Requests' },
        {
          'retry-after': n === 1 ? '7' : new Date(Date.now() + 60_000).toUTCString(),
        },
      ),
    );
    const first = await failure(client.create(INPUT));
    expect(first.failure).toBe(UpstreamFailure.RATE_LIMITED);
    expect(first.retryAfterMs).toBe(7000);
    expect(first.message).toBe('Too Many Requests');
    const second = await failure(client.create(INPUT));
    expect(second.retryAfterMs).toBeGreaterThan(55_000);
    expect(second.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('maps 500 to UNAVAILABLE and never retries', async () => {
    const { srv, client } = await setup((_req, res) => json(res, 500, { statusCode: 500, message: 'Internal server error' }));
    const err = await failure(client.create(INPUT));
    expect(err.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(err.httpStatus).toBe(500);
    expect(srv.count('POST')).toBe(1);
  });

  it('says so when an error body is an HTML page', async () => {
    const html = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
    const { client } = await setup((_req, res, _s, n) => {
      res.writeHead(n === 1 ? 502 : 403, { 'content-type': 'text/html' });
      res.end(html);
    });
    const gateway = await failure(client.create(INPUT));
    expect(gateway.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(gateway.message).toContain('upstream returned an HTML error page');
    expect(gateway.message).not.toContain('<');
    const forbidden = await failure(client.create(INPUT));
    expect(forbidden.failure).toBe(UpstreamFailure.REJECTED);
    expect(forbidden.message).toBe('upstream returned an HTML error page');
  });

  it.each([
    ['malformed JSON', '{"id": "abc", "status": '],
    ['an empty body', ''],
    ['JSON without an id', '{"status":"queued"}'],
  ])('treats a 2xx with %s as OUTCOME_UNKNOWN', async (_name, body) => {
    const { srv, client, calls } = await setup((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(body);
    });
    const err = await failure(client.create(INPUT));
    expect(err.failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
    expect(err.httpStatus).toBe(201);
    expect(srv.count('POST')).toBe(1);
    expect(calls.map((c) => c[1])).toEqual(['unreadable']);
  });

  it('treats a 2xx body over maxResponseBytes as OUTCOME_UNKNOWN, with or without Content-Length', async () => {
    const big = JSON.stringify({ ...JOB, padding: 'x'.repeat(5000) });
    const { srv, client } = await setup(
      (_req, res, _s, n) => {
        if (n === 1) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) });
          res.end(big);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(big.slice(0, 3000));
          res.end(big.slice(3000));
        }
      },
      { maxResponseBytes: 1024 },
    );
    expect((await failure(client.create(INPUT))).failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
    expect((await failure(client.create(INPUT))).failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
    expect(srv.count('POST')).toBe(2);
  });

  it('reports OUTCOME_UNKNOWN when headers never come, and the server saw exactly one request', async () => {
    const { srv, client, calls } = await setup(() => {
      /* never answers */
    });
    const err = await failure(client.create(INPUT));
    expect(err.failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
    expect(calls.map((c) => c[1])).toEqual(['timeout']);
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.count('POST')).toBe(1);
  });

  it('reports OUTCOME_UNKNOWN when the body stalls after a 2xx status', async () => {
    const { client } = await setup((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"id":"abc",');
    });
    const err = await failure(client.create(INPUT));
    expect(err.failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
  });

  it('reports OUTCOME_UNKNOWN when the socket is destroyed mid-create, on a fresh or a reused keep-alive socket', async () => {
    const { srv, client } = await setup((req, res) => {
      if (req.method === 'GET') json(res, 200, { id: 'x', status: 'generating' });
      else req.socket.destroy();
    });
    expect((await failure(client.create(INPUT))).failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
    // Warm a keep-alive socket so the next POST goes out on a reused connection.
    await client.get('x');
    await client.get('x');
    expect((await failure(client.create(INPUT))).failure).toBe(UpstreamFailure.OUTCOME_UNKNOWN);
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.count('POST')).toBe(2);
  });

  it('sends a create once on a new connection after the server closed the idle keep-alive socket', async () => {
    const { srv, client } = await setup((req, res) => {
      if (req.method === 'GET') json(res, 200, { id: 'x', status: 'generating' });
      else json(res, 201, JOB);
    });
    await client.get('x');
    srv.server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    await expect(client.create(INPUT)).resolves.toMatchObject({ upstreamId: JOB.id });
    expect(srv.count('POST')).toBe(1);
  });

  it('maps connection refused to UNAVAILABLE', async () => {
    const srv = await startServer(() => undefined);
    const url = srv.url;
    await srv.close();
    const calls: string[] = [];
    const client = createUpstreamClient({ baseUrl: url, apiKey: KEY, ...FAST, observer: (_e, o) => calls.push(o) });
    cleanups.push(() => client.stop());
    const err = await failure(client.create(INPUT));
    expect(err.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(err.message).toContain('ECONNREFUSED');
    expect(calls).toEqual(['network']);
    const pollErr = await failure(client.get('x'));
    expect(pollErr.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(calls).toHaveLength(4);
  });
});

describe('get', () => {
  it('polls with the id encoded, received intact', async () => {
    const id = '7c1e4b2a-93d5-4f0e-b8a1-2d6f0c9e5a13:google/veo-3.1-t2v?&=#x';
    const { srv, client, calls } = await setup((req, res) => {
      const got = new URL(req.url ?? '/', 'http://h').searchParams.get('generation_id');
      json(res, 200, { id: got, status: 'completed', video: { url: 'https://cdn/x.mp4' } });
    });
    const job = await client.get(id);
    expect(job.upstreamId).toBe(id);
    expect(job.video?.url).toBe('https://cdn/x.mp4');
    expect(srv.seen[0].method).toBe('GET');
    expect(srv.seen[0].url).toBe(`/v2/video/generations?generation_id=${encodeURIComponent(id)}`);
    expect(srv.seen[0].url).not.toContain(':google/');
    expect(srv.seen[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(calls).toEqual([['poll', '200', expect.any(Number)]]);
  });

  it('retries a 500 and then succeeds', async () => {
    const { srv, client, calls } = await setup((_req, res, _s, n) =>
      n === 1 ? json(res, 500, { message: 'Internal server error' }) : json(res, 200, { id: 'x', status: 'generating' }),
    );
    await expect(client.get('x')).resolves.toMatchObject({ upstreamId: 'x', status: 'generating' });
    expect(srv.count('GET')).toBe(2);
    expect(calls.map((c) => c[1])).toEqual(['500', '200']);
  });

  it('retries timeouts and unreadable bodies', async () => {
    const { srv, client, calls } = await setup((_req, res, _s, n) => {
      if (n === 1) return; // stall past the headers timeout
      if (n === 2) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('not json');
        return;
      }
      json(res, 200, { id: 'x', status: 'completed', video: [{ url: 'https://cdn/v.mp4' }] });
    });
    await expect(client.get('x')).resolves.toMatchObject({ video: { url: 'https://cdn/v.mp4' } });
    expect(srv.count('GET')).toBe(3);
    expect(calls.map((c) => c[1])).toEqual(['timeout', 'unreadable', '200']);
  });

  it('built without timeouts, waits for a slow poll as long as the gateway does (UPSTREAM_POLL_TIMEOUT_MS default)', async () => {
    const { client, calls } = await setup(
      (_req, res) => {
        setTimeout(() => json(res, 200, { id: 'x', status: 'generating' }), 11_000).unref();
      },
      { headersTimeoutMs: undefined, bodyTimeoutMs: undefined, pollRetries: 0 },
    );
    // The client's own default used to be 10 s, short of the gateway's 15 s: this poll timed out.
    await expect(client.get('x')).resolves.toMatchObject({ upstreamId: 'x', status: 'generating' });
    expect(calls.map((c) => c[1])).toEqual(['200']);
  }, 20_000);

  it('maps 404 to NOT_FOUND without retrying', async () => {
    const { srv, client } = await setup((_req, res) => json(res, 404, { statusCode: 404, message: 'Generation not found' }));
    const err = await failure(client.get('gone'));
    expect(err.failure).toBe(UpstreamFailure.NOT_FOUND);
    expect(err.httpStatus).toBe(404);
    expect(err.message).toBe('Generation not found');
    expect(srv.count('GET')).toBe(1);
  });

  it('maps other 4xx to REJECTED without retrying', async () => {
    const { srv, client } = await setup((_req, res) => json(res, 401, { statusCode: 401, message: 'A valid API key is required' }));
    const err = await failure(client.get('x'));
    expect(err.failure).toBe(UpstreamFailure.REJECTED);
    expect(err.httpStatus).toBe(401);
    expect(srv.count('GET')).toBe(1);
  });

  it('throws UNAVAILABLE after pollRetries extra attempts', async () => {
    const { srv, client, calls } = await setup((_req, res) => json(res, 503, { message: 'Service unavailable' }), { pollRetries: 3 });
    const err = await failure(client.get('x'));
    expect(err.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(err.httpStatus).toBe(503);
    expect(srv.count('GET')).toBe(4);
    expect(calls.map((c) => c[1])).toEqual(['503', '503', '503', '503']);
  });

  it('books every retry in the request budget; with none left by the end of its backoff, fails without sending it', async () => {
    const budget = new LocalRequestBudget({ ratePerSecond: 1, burst: 1 });
    const { srv, client } = await setup((_req, res) => json(res, 503, { message: 'Service unavailable' }), { pollRetries: 3, retryBudget: budget });
    // The first attempt is the caller's (the poller took its token); the bucket starts empty, so the
    // first retry would have to wait about a second, far past its backoff (at most 50 ms here).
    const err = await failure(client.get('x'));
    expect(err.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(err.httpStatus).toBe(503);
    expect(err.message).toMatch(/not retried: the upstream request budget is spent/);
    expect(srv.count('GET')).toBe(1);
  });

  it('spends a token on each retry it sends', async () => {
    let clock = 1_000_000;
    const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 2 }, () => clock);
    clock += 10_000; // full: 2 tokens
    const { srv, client } = await setup(
      (_req, res, _seen, n) => (n < 3 ? json(res, 503, { message: 'Service unavailable' }) : json(res, 200, { id: 'x', status: 'queued' })),
      { pollRetries: 3, retryBudget: budget },
    );
    await expect(client.get('x')).resolves.toMatchObject({ status: 'queued' });
    expect(srv.count('GET')).toBe(3);
    // Both tokens went to the two retries: a taker finds none (the clock stood still).
    expect((await budget.take(1)).granted).toBe(0);
  });

  it("counts a retry's token as spent when the retry leaves, not when its backoff began", async () => {
    let clock = 1_000_000;
    // Time passes during the backoff (as when the event loop is late to fire its timer): the bucket
    // refills to its burst meanwhile, which would forgive the token booked for the retry.
    class SlowBackoffBudget extends LocalRequestBudget {
      override async reserve(maxWaitMs: number) {
        const reservation = await super.reserve(maxWaitMs);
        clock += 10_000;
        return reservation;
      }
    }
    const budget = new SlowBackoffBudget({ ratePerSecond: 10, burst: 2 }, () => clock);
    clock += 10_000; // full: 2 tokens
    const { srv, client } = await setup(
      (_req, res, _seen, n) => (n < 2 ? json(res, 503, { message: 'Service unavailable' }) : json(res, 200, { id: 'x', status: 'queued' })),
      { pollRetries: 3, retryBudget: budget },
    );
    await expect(client.get('x')).resolves.toMatchObject({ status: 'queued' });
    expect(srv.count('GET')).toBe(2);
    // The retry left with the bucket full again: it took one of the two, so a taker gets only one.
    expect((await budget.take(2)).granted).toBe(1);
  });

  it('waits out a short Retry-After on 429 and retries', async () => {
    const { srv, client } = await setup((_req, res, _s, n) =>
      n === 1 ? json(res, 429, { message: 'Too Many Requests' }, { 'retry-after': '0' }) : json(res, 200, { id: 'x', status: 'queued' }),
    );
    await expect(client.get('x')).resolves.toMatchObject({ status: 'queued' });
    expect(srv.count('GET')).toBe(2);
  });

  it('gives up at once on a Retry-After longer than retryMaxDelayMs', async () => {
    const { srv, client } = await setup((_req, res) => json(res, 429, { message: 'Too Many Requests' }, { 'retry-after': '30' }));
    const started = Date.now();
    const err = await failure(client.get('x'));
    expect(err.failure).toBe(UpstreamFailure.RATE_LIMITED);
    expect(err.retryAfterMs).toBe(30_000);
    expect(srv.count('GET')).toBe(1);
    // Not waiting out the 30 s it was told: a guard against that wait, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('throws RATE_LIMITED when 429s without Retry-After exhaust the retries', async () => {
    const { srv, client } = await setup((_req, res) => json(res, 429, { message: 'Too Many Requests' }));
    const err = await failure(client.get('x'));
    expect(err.failure).toBe(UpstreamFailure.RATE_LIMITED);
    expect(err.retryAfterMs).toBeNull();
    expect(srv.count('GET')).toBe(3);
  });

  it('treats an oversize poll body as unreadable and retries it', async () => {
    const { srv, client, calls } = await setup((_req, res) => json(res, 200, { id: 'x', status: 'completed', padding: 'y'.repeat(4096) }), {
      maxResponseBytes: 512,
      pollRetries: 1,
    });
    const err = await failure(client.get('x'));
    expect(err.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(srv.count('GET')).toBe(2);
    expect(calls.map((c) => c[1])).toEqual(['unreadable', 'unreadable']);
  });
});

describe('paths', () => {
  it('uses the legacy path for create and poll when asked', async () => {
    const { srv, client } = await setup(
      (req, res) => (req.method === 'POST' ? json(res, 201, JOB) : json(res, 200, { id: JOB.id, status: 'generating' })),
      { legacyPaths: true },
    );
    await client.create(INPUT);
    await client.get(JOB.id);
    expect(srv.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v2/generate/video/google/generation',
      `GET /v2/generate/video/google/generation?generation_id=${encodeURIComponent(JOB.id)}`,
    ]);
  });

  it('with the legacy paths preferred, keeps models the legacy path does not know on the current path', async () => {
    const { srv, client } = await setup(
      (req, res) => (req.method === 'POST' ? json(res, 201, JOB) : json(res, 200, { id: JOB.id, status: 'generating' })),
      { legacyPaths: true },
    );
    const veo31 = { ...INPUT, model: 'google/veo-3.1-t2v' };
    await client.create(veo31);
    await client.get(JOB.id, veo31.model);
    await client.create(INPUT);
    await client.get(JOB.id, INPUT.model);
    expect(srv.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v2/video/generations',
      `GET /v2/video/generations?generation_id=${encodeURIComponent(JOB.id)}`,
      'POST /v2/generate/video/google/generation',
      `GET /v2/generate/video/google/generation?generation_id=${encodeURIComponent(JOB.id)}`,
    ]);
  });

  it('creates and follows a Veo 3.1 generation on the simulator with the legacy paths preferred', async () => {
    // The simulator refuses Veo 3.1 on the legacy path with a 400, as the contract expects of the upstream.
    const sim = await startSimulator({ apiKey: KEY, host: '127.0.0.1', port: 0, timeScale: 0.001 });
    const client = createUpstreamClient({ baseUrl: sim.url, apiKey: KEY, legacyPaths: true, ...FAST });
    cleanups.push(() => sim.stop());
    cleanups.push(() => client.stop());
    const veo31 = { model: 'google/veo-3.1-t2v', prompt: 'a fox in snow', durationSeconds: 8, resolution: '720p' as const };
    const job = await client.create(veo31);
    expect(job.status).toBe('queued');
    const polled = await client.get(job.upstreamId, veo31.model);
    expect(polled.upstreamId).toBe(job.upstreamId);
  });

  it('keeps a path prefix from baseUrl', async () => {
    const srv = await startServer((_req, res) => json(res, 201, JOB));
    const client = createUpstreamClient({ baseUrl: `${srv.url}/proxy/`, apiKey: KEY, ...FAST });
    cleanups.push(() => srv.close());
    cleanups.push(() => client.stop());
    await client.create(INPUT);
    expect(srv.seen[0].url).toBe('/proxy/v2/video/generations');
  });
});

describe('classification helpers', () => {
  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-08-20T10:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Thu, 20 Aug 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 20 Aug 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('-3', now)).toBeNull();
  });

  it('provesNotSent only for failures before a connection existed', () => {
    const withCode = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });
    expect(provesNotSent(withCode('UND_ERR_CONNECT_TIMEOUT'))).toBe(true);
    expect(provesNotSent(withCode('ECONNREFUSED'))).toBe(true);
    expect(provesNotSent(withCode('ENOTFOUND'))).toBe(true);
    expect(provesNotSent(Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('EHOSTUNREACH')]), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(provesNotSent(withCode('UND_ERR_HEADERS_TIMEOUT'))).toBe(false);
    expect(provesNotSent(withCode('UND_ERR_BODY_TIMEOUT'))).toBe(false);
    expect(provesNotSent(withCode('UND_ERR_SOCKET', withCode('ECONNRESET')))).toBe(false);
    expect(provesNotSent(withCode('ECONNRESET'))).toBe(false);
    expect(provesNotSent(withCode('EPIPE'))).toBe(false);
    expect(provesNotSent(withCode('ETIMEDOUT'))).toBe(false);
    expect(provesNotSent(new Error('no code'))).toBe(false);
  });

  it('a create that could not open a socket (EMFILE) is UNAVAILABLE, not OUTCOME_UNKNOWN, and reached nobody', async () => {
    const { srv, client } = await setup((_req, res) => json(res, 200, JOB));
    // Exhaust this process's descriptors for real, then release them whatever happens.
    const fds: number[] = [];
    let err: UpstreamError;
    try {
      try {
        for (let i = 0; i < 100_000; i++) fds.push(openSync('/dev/null', 'r'));
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('EMFILE');
      }
      err = await failure(client.create(INPUT));
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    expect(err.message).toContain('EMFILE');
    expect(err.failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect(srv.seen).toHaveLength(0);
  });
});
