/**
 * CORS on the GraphQL path over real HTTP: preflights from listed and unlisted origins, and the
 * headers on answers — successes and the 4xx a frontend must be able to read (401, 429, 400, 413).
 * Requests go through node:http so the `Origin` header is sent exactly as given.
 */
import { request } from 'node:http';
import { type TestGateway, useGateway } from '../helpers/gateway';

const APP = 'https://app.example.com';
const DEV = 'http://localhost:5173';
const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const MODELS = JSON.stringify({ query: '{ videoModels { id } }' });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const preflight = (gw: TestGateway, origin: string, requestHeaders = 'authorization, content-type') =>
  send(gw.app.url, 'OPTIONS', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders });

const post = (gw: TestGateway, origin: string | null, headers: Record<string, string> = {}, body = MODELS) =>
  send(gw.app.url, 'POST', { 'content-type': 'application/json', ...(origin ? { origin } : {}), ...headers }, body);

const corsHeaders = (a: Answer) => Object.keys(a.headers).filter((name) => name.startsWith('access-control-'));

async function token(sub: string): Promise<string> {
  const jose = await import('jose');
  return new jose.SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
}

describe('with CORS_ORIGINS listing two origins', () => {
  const gw = useGateway({ env: { CORS_ORIGINS: `${APP},${DEV}`, JWT_SECRET: SECRET, QUOTA_REQUESTS_PER_SECOND: '2' } });

  it('answers the preflight of a listed origin with 204 and what its requests may carry', async () => {
    const a = await preflight(gw, DEV, 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id');
    expect(a.status).toBe(204);
    expect(a.body).toBe('');
    expect(a.headers['access-control-allow-origin']).toBe(DEV);
    expect(String(a.headers['access-control-allow-methods']).split(', ').sort()).toEqual(['GET', 'POST']);
    expect(String(a.headers['access-control-allow-headers']).split(', ')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id']),
    );
    expect(a.headers['access-control-max-age']).toBe('600');
    expect(a.headers.vary).toMatch(/\bOrigin\b/);
    // Bearer headers, not cookies: credentials mode is never granted.
    expect(a.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('gives an unlisted origin no CORS headers at all, so its browser blocks the call', async () => {
    for (const origin of ['https://evil.example', 'http://app.example.com', 'https://app.example.com.evil.example', 'null']) {
      const pre = await preflight(gw, origin);
      expect(corsHeaders(pre)).toEqual([]);
      expect(pre.status).toBe(405);
      expect(pre.headers.vary).toMatch(/\bOrigin\b/);

      // The server still answers (CORS is enforced by the browser), but without permission to read it.
      const actual = await post(gw, origin);
      expect(actual.status).toBe(200);
      expect(corsHeaders(actual)).toEqual([]);
    }
  });

  it('lets a listed origin read a successful answer with a token, and its request id', async () => {
    const a = await post(
      gw,
      APP,
      { authorization: `Bearer ${await token('cors-reader')}`, 'x-request-id': 'cors-1' },
      JSON.stringify({ query: '{ videoGenerations { nodes { id } } }' }),
    );
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ data: { videoGenerations: { nodes: [] } } });
    expect(a.headers['access-control-allow-origin']).toBe(APP);
    expect(a.headers.vary).toMatch(/\bOrigin\b/);
    expect(String(a.headers['access-control-expose-headers']).split(', ').sort()).toEqual(['retry-after', 'x-request-id']);
    expect(a.headers['x-request-id']).toBe('cors-1');
  });

  it('lets a listed origin read its error answers: 401, 429 with Retry-After, 400, 413', async () => {
    const readable = (a: Answer) => {
      expect(a.headers['access-control-allow-origin']).toBe(APP);
      expect(a.headers['access-control-expose-headers']).toContain('retry-after');
      expect(a.headers.vary).toMatch(/\bOrigin\b/);
      return JSON.parse(a.body).errors[0].extensions.code;
    };

    const expired = await post(gw, APP, { authorization: 'Bearer not.a-valid.token' });
    expect(expired.status).toBe(401);
    expect(readable(expired)).toBe('UNAUTHENTICATED');

    // Two operations per second for this owner: a burst gets a 429 with Retry-After.
    const burst = await token('cors-burst');
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(gw, APP, { authorization: `Bearer ${burst}` })));
    const limited = answers.find((a) => a.status === 429);
    expect(limited).toBeDefined();
    expect(readable(limited!)).toBe('RATE_LIMITED');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const badJson = await post(gw, APP, {}, '{"query":');
    expect(badJson.status).toBe(400);
    expect(readable(badJson)).toBe('BAD_REQUEST');

    const tooBig = await post(gw, APP, {}, JSON.stringify({ query: `{ videoModels { id } } #${'x'.repeat(1_100_000)}` }));
    expect(tooBig.status).toBe(413);
    expect(readable(tooBig)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('lets a listed origin read the answer to a GET, and CSRF prevention still refuses a GET without a preflight header', async () => {
    const url = `${gw.app.url}?query=${encodeURIComponent('{ videoModels { id } }')}`;
    const ok = await send(url, 'GET', { origin: APP, 'apollo-require-preflight': 'true' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(APP);

    const refused = await send(url, 'GET', { origin: APP });
    expect(refused.status).toBe(400);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
    expect(refused.body).toMatch(/preflight/i);
  });

  it('adds nothing outside the GraphQL path', async () => {
    const health = await send(gw.app.url.replace(/\/graphql$/, '/healthz'), 'GET', { origin: APP });
    expect(health.status).toBe(200);
    expect(corsHeaders(health)).toEqual([]);
    const pre = await send(gw.app.url.replace(/\/graphql$/, '/metrics'), 'OPTIONS', { origin: APP, 'access-control-request-method': 'GET' });
    expect(corsHeaders(pre)).toEqual([]);
  });
});

describe('without CORS_ORIGINS (the default)', () => {
  const gw = useGateway();

  it('sends no CORS headers to any origin, and a preflight is a 405 as before', async () => {
    const pre = await preflight(gw, APP);
    expect(pre.status).toBe(405);
    expect(corsHeaders(pre)).toEqual([]);
    expect(pre.headers.vary).toBeUndefined();
    const actual = await post(gw, APP);
    expect(actual.status).toBe(200);
    expect(corsHeaders(actual)).toEqual([]);
  });
});

describe('with CORS_ORIGINS=*', () => {
  const gw = useGateway({ env: { CORS_ORIGINS: '*' } });

  it('allows any origin with `*`, never with credentials', async () => {
    const pre = await preflight(gw, 'https://anyone.example');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-headers']).toContain('authorization');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const actual = await post(gw, 'https://anyone.example');
    expect(actual.headers['access-control-allow-origin']).toBe('*');
    expect(actual.headers['access-control-expose-headers']).toBe('x-request-id, retry-after');
  });
});
