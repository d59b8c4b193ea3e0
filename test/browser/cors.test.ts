/**
 * A frontend on another origin calling the gateway with a JWT, in a real browser (Debian's
 * Chromium): a tiny page served by a second HTTP server (another port = another origin) fetches
 * GraphQL with `Authorization: Bearer <jwt>`. Listed in CORS_ORIGINS, the page reads the answers
 * (and the exposed headers, and a 401's error code); unlisted, the browser blocks the call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { CHROMIUM, hasChromium, openBrowser, withScreenshotOnFailure, type BrowserSession } from './browser';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

if (!hasChromium) console.warn(`!! SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

jest.setTimeout(45_000);

const SECRET = 'a-shared-secret-of-at-least-32-characters!';

/**
 * The frontend: reads the gateway URL and a token from the fragment, sends one authenticated query
 * and one with a bad token, and writes what it saw into #result as JSON.
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>frontend</title>
<pre id="result">running</pre>
<script>
  const params = new URLSearchParams(location.hash.slice(1));
  async function call(token) {
    try {
      const response = await fetch(params.get('gateway'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify({ query: '{ videoGenerations { nodes { id } } videoModels { id } }' }),
      });
      const body = await response.json();
      return { status: response.status, requestId: response.headers.get('x-request-id'), data: body.data ?? null, code: body.errors?.[0]?.extensions?.code ?? null };
    } catch (error) {
      return { blocked: String(error) };
    }
  }
  (async () => {
    const results = { withToken: await call(params.get('token')), withBadToken: await call('not.a-valid.token') };
    document.getElementById('result').textContent = JSON.stringify(results);
  })();
</script>`;

async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/' ? PAGE : 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describeWithChromium('a frontend on another origin', () => {
  let gw: TestGateway;
  let browser: BrowserSession;
  let listed: { server: Server; origin: string };
  let unlisted: { server: Server; origin: string };
  let token: string;

  beforeAll(async () => {
    listed = await servePage();
    unlisted = await servePage();
    gw = await startGateway({ env: { CORS_ORIGINS: listed.origin, JWT_SECRET: SECRET } });
    const jose = await import('jose');
    token = await new jose.SignJWT({ sub: 'frontend-user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    browser = await openBrowser();
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await new Promise((r) => listed?.server.close(r));
    await new Promise((r) => unlisted?.server.close(r));
  });

  async function run(origin: string): Promise<any> {
    const { page } = browser;
    await page.goto(`${origin}/#gateway=${encodeURIComponent(gw.app.url)}&token=${encodeURIComponent(token)}`);
    await page.locator('#result').filter({ hasNotText: 'running' }).waitFor({ timeout: 10_000 });
    return JSON.parse(await page.locator('#result').innerText());
  }

  it('reads the answer, the request id and a 401 error when its origin is listed', async () => {
    await withScreenshotOnFailure(browser.page, 'cors-listed', async () => {
      expect(listed.origin).not.toBe(new URL(gw.app.url).origin);
      const seen = await run(listed.origin);
      expect(seen.withToken).toEqual({
        status: 200,
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        data: { videoGenerations: { nodes: [] }, videoModels: expect.arrayContaining([{ id: 'google/veo-3.0-fast' }]) },
        code: null,
      });
      expect(seen.withBadToken).toEqual({ status: 401, requestId: expect.any(String), data: null, code: 'UNAUTHENTICATED' });
    });
  });

  it('is blocked by the browser when its origin is not listed', async () => {
    await withScreenshotOnFailure(browser.page, 'cors-unlisted', async () => {
      browser.problems.length = 0;
      const seen = await run(unlisted.origin);
      expect(seen).toEqual({
        withToken: { blocked: 'TypeError: Failed to fetch' },
        withBadToken: { blocked: 'TypeError: Failed to fetch' },
      });
      // Chromium says why in the console.
      expect(browser.problems.join('\n')).toMatch(/blocked by CORS policy/);
    });
  });
});
