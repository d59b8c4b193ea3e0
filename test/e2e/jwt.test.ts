/**
 * JWT bearer tokens through the real server, over HTTP and WebSocket: a shared HS256 secret and a
 * JWKS served from a local HTTP server, with real tokens (jose) — valid, expired, badly signed,
 * for the wrong issuer or audience, without the owner claim.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CREATE, WATCH_ALL, collect, gql, gqlData, startGateway, within, type TestGateway, useGateway } from '../helpers/gateway';
import { httpSubscriber, subscriptionErrorCodes } from '../helpers/http-subscriptions';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const ISSUER = 'https://id.example.test';
const AUDIENCE = 'veo-gateway';
const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a paper boat' };
const LIST = '{ videoGenerations { nodes { id } } }';

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
type SigningKey = Awaited<ReturnType<Jose['generateKeyPair']>>['privateKey'];
let jose: Jose;
beforeAll(async () => {
  jose = await import('jose');
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function hsToken(claims: Record<string, unknown>, options: { secret?: string; exp?: number | null; iss?: string; aud?: string } = {}) {
  let jwt = new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE);
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? nowSeconds() + 300);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

function socketClient(gw: TestGateway, token: string, closed: Array<{ code: number; reason: string; at: number }>): Client {
  return createClient({
    url: gw.app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => closed.push({ code: (e as any).code, reason: String((e as any).reason), at: Date.now() }) },
  });
}

describe('JWT with a shared secret', () => {
  const gw = useGateway({ env: { JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } });

  it('accepts a valid token over HTTP; its owner is jwt:<sub>, apart from the API-key owner of the same name', async () => {
    const token = await hsToken({ sub: 'alice' });
    const mine = (await gqlData(gw, token, CREATE, { input: INPUT })).createVideoGeneration;
    expect((await gqlData(gw, token, LIST)).videoGenerations.nodes).toEqual([{ id: mine.id }]);

    // The API-key owner "alice" is someone else: neither sees the other's generations.
    const apiKey = await gw.keyFor('alice');
    expect((await gqlData(gw, apiKey, LIST)).videoGenerations.nodes).toEqual([]);
    const hers = (await gqlData(gw, apiKey, CREATE, { input: INPUT })).createVideoGeneration;
    expect((await gqlData(gw, token, LIST)).videoGenerations.nodes).toEqual([{ id: mine.id }]);
    const cross = await gql(gw, token, `query { videoGeneration(id: "${hers.id}") { id } }`);
    expect(cross.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    // A token cannot claim the API-key owner's name through the namespace either.
    const spoof = await hsToken({ sub: 'jwt:alice' });
    expect((await gqlData(gw, spoof, LIST)).videoGenerations.nodes).toEqual([]);
  });

  it.each([
    ['expired', () => hsToken({ sub: 'bob' }, { exp: nowSeconds() - 10 })],
    ['signed with another secret', () => hsToken({ sub: 'bob' }, { secret: 'another-secret-that-is-long-enough-too!!' })],
    ['for another issuer', () => hsToken({ sub: 'bob' }, { iss: 'https://evil.example.test' })],
    ['for another audience', () => hsToken({ sub: 'bob' }, { aud: 'someone-else' })],
    ['without the owner claim', () => hsToken({ name: 'bob' })],
    ['with an empty owner claim', () => hsToken({ sub: '' })],
    ['without an expiry', () => hsToken({ sub: 'bob' }, { exp: null })],
    [
      'unsigned (alg none)',
      async () => new jose.UnsecuredJWT({ sub: 'bob', exp: nowSeconds() + 300 }).setIssuer(ISSUER).setAudience(AUDIENCE).encode(),
    ],
    [
      'tampered',
      async () => {
        const [h, , s] = (await hsToken({ sub: 'bob' })).split('.');
        const payload = Buffer.from(JSON.stringify({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300 })).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
  ])('refuses a token %s over HTTP (401) and over WebSocket (4403)', async (_what, make) => {
    const token = await make();
    const res = await gql(gw, token, LIST);
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');

    const closed: Array<{ code: number; reason: string; at: number }> = [];
    const client = socketClient(gw, token, closed);
    const sub = collect(client, WATCH_ALL);
    await within('the refusal', sub.done, 3_000);
    expect(closed[0]?.code).toBe(4403);
    await client.dispose();
  });

  it('keeps API keys working alongside tokens', async () => {
    const key = await gw.keyFor('server-side');
    expect((await gqlData(gw, key, CREATE, { input: INPUT })).createVideoGeneration.status).toBe('QUEUED');
  });

  it('serves subscriptions to a token over WebSocket and closes the socket with 4403 when the token expires', async () => {
    const exp = nowSeconds() + 2;
    const token = await hsToken({ sub: 'carol' }, { exp });
    const closed: Array<{ code: number; reason: string; at: number }> = [];
    const client = socketClient(gw, token, closed);
    const sub = collect(client, WATCH_ALL);
    // The subscription is live: a generation created with the same token shows up on it.
    await new Promise((r) => setTimeout(r, 200));
    await gqlData(gw, token, CREATE, { input: INPUT });
    await within('the expiry close', sub.done, 5_000);
    expect(sub.values.length).toBeGreaterThan(0);
    expect(closed[0]?.code).toBe(4403);
    // Closed at the expiry, not before it (exp has one-second resolution; the timer fires on time).
    expect(closed[0]!.at).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(closed[0]!.at).toBeLessThan(exp * 1000 + 1_500);
    await client.dispose();
  });

  it.each(['sse', 'multipart'] as const)(
    'serves subscriptions to a token over %s and ends the stream with UNAUTHENTICATED when the token expires',
    async (transport) => {
      const exp = nowSeconds() + 2;
      const token = await hsToken({ sub: 'dora' }, { exp });
      const sub = httpSubscriber[transport](gw, token, WATCH_ALL);
      await new Promise((r) => setTimeout(r, 200));
      await gqlData(gw, token, CREATE, { input: INPUT });
      await within('the expiry end', sub.done, 5_000);
      const endedAt = Date.now();
      expect(sub.values.length).toBeGreaterThan(0);
      expect(subscriptionErrorCodes(sub.errors)).toEqual(['UNAUTHENTICATED']);
      expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
      expect(endedAt).toBeLessThan(exp * 1000 + 1_500);
    },
  );
});

describe('JWT with a JWKS URL', () => {
  let gw: TestGateway;
  let jwks: Server;
  let jwksRequests = 0;
  let signingKey: SigningKey;

  beforeAll(async () => {
    const pair = await jose.generateKeyPair('ES256');
    signingKey = pair.privateKey;
    const publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    jwks = createServer((req, res) => {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    gw = await startGateway({
      env: { JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, JWT_AUDIENCE: AUDIENCE, JWT_OWNER_CLAIM: 'email' },
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await gw?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  const esToken = (claims: Record<string, unknown>, key: SigningKey = signingKey, kid = 'key-1') =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).setAudience(AUDIENCE).setExpirationTime('5m').sign(key);

  it('accepts tokens signed by a key of the set, with the owner from the configured claim', async () => {
    const token = await esToken({ sub: 'u-123', email: 'dana@example.test' });
    const created = (await gqlData(gw, token, CREATE, { input: INPUT })).createVideoGeneration;
    expect((await gqlData(gw, token, LIST)).videoGenerations.nodes).toEqual([{ id: created.id }]);
    // Same email, another sub: the same owner.
    const again = await esToken({ sub: 'u-999', email: 'dana@example.test' });
    expect((await gqlData(gw, again, LIST)).videoGenerations.nodes).toEqual([{ id: created.id }]);
    expect(jwksRequests).toBeGreaterThanOrEqual(1);
  });

  it('refuses a token signed by a key outside the set, an HS256 token, and one without the claim', async () => {
    const stranger = (await jose.generateKeyPair('ES256')).privateKey;
    const hs = await hsToken({ sub: 'x', email: 'dana@example.test' }, { iss: ISSUER });
    for (const token of [
      await esToken({ email: 'dana@example.test' }, stranger),
      await esToken({ email: 'dana@example.test' }, stranger, 'key-2'),
      hs,
      await esToken({ sub: 'no-email' }),
    ]) {
      const res = await gql(gw, token, LIST);
      expect(res.status).toBe(401);
      expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    }
  });

  it('accepts the token in WebSocket connectionParams', async () => {
    const token = await esToken({ email: 'erin@example.test' });
    const closed: Array<{ code: number; reason: string; at: number }> = [];
    const client = socketClient(gw, token, closed);
    const sub = collect(client, WATCH_ALL);
    await gqlData(gw, token, CREATE, { input: INPUT });
    await within(
      'an event',
      (async () => {
        while (sub.values.length === 0 && sub.errors.length === 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
    );
    expect(sub.errors).toEqual([]);
    expect(sub.values[0].videoGenerationsUpdated.prompt).toBe(INPUT.prompt);
    sub.unsubscribe();
    await client.dispose();
  });
});
