/**
 * The progress page in Debian's Chromium with WebSockets blocked, as behind a proxy that drops them:
 * it follows a generation to its video over GraphQL over SSE and over Apollo's multipart HTTP, keeps
 * the chosen transport across a reload, and, left on WebSocket, says so and falls back to SSE.
 */
import { gqlData, startGateway, type TestGateway } from '../helpers/gateway';
import { CreateVideoGenerationDocument } from '../../src/web/generated/graphql';
import { CHROMIUM, hasChromium, openBrowser, withScreenshotOnFailure, type BrowserSession } from './browser';

if (!hasChromium) console.warn(`!! SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

jest.setTimeout(90_000);

/**
 * Runs in the page before its own code: every WebSocket goes to a closed port instead, so it fails
 * as a blocked one does (an error, then a close with 1006), and is counted.
 */
function blockWebSockets(): void {
  const w = globalThis as unknown as { WebSocket: typeof WebSocket; blockedWebSockets: number };
  const RealWebSocket = w.WebSocket;
  w.blockedWebSockets = 0;
  w.WebSocket = class BlockedWebSocket extends RealWebSocket {
    constructor(_url: string | URL, protocols?: ConstructorParameters<typeof WebSocket>[1]) {
      super('ws://127.0.0.1:1/', protocols);
      w.blockedWebSockets++;
    }
  };
}

describeWithChromium('the progress page without WebSockets', () => {
  let gw: TestGateway;
  let browser: BrowserSession;
  /** The Accept header of every request the page sent to the GraphQL path. */
  const accepts: string[] = [];

  beforeAll(async () => {
    gw = await startGateway({ timeScale: 0.1 });
    browser = await openBrowser();
    await browser.context.addInitScript(blockWebSockets);
    browser.context.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql') accepts.push(request.headers()['accept'] ?? '');
    });
    // A gateway and a browser starting on a loaded machine can take longer than one test.
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });
  beforeEach(() => void accepts.splice(0));

  const progressUrl = () => gw.app.url.replace(/\/graphql$/, '/');

  /** Connects the page with a new owner's key over `label`, then follows a generation made elsewhere to its video. */
  async function followToVideo(label: 'SSE' | 'Multipart HTTP', owner: string): Promise<void> {
    const { page } = browser;
    const key = await gw.keyFor(owner);
    await page.goto(progressUrl());
    await page.getByLabel('Live updates over').selectOption({ label });
    await page.fill('#api-key', key);
    await page.press('#api-key', 'Tab');
    await page.locator('#connection', { hasText: `Connected over ${label}.` }).waitFor({ timeout: 30_000 });

    // Made elsewhere, so only the subscription can bring it to the page, and then its video.
    const prompt = `a heron followed over ${label}`;
    await gqlData(gw, key, CreateVideoGenerationDocument, { input: { model: 'google/veo-3.0-fast', prompt, durationSeconds: 4 } });
    const card = page.locator('li.card', { hasText: prompt });
    await card.locator('.status', { hasText: 'Ready' }).waitFor({ timeout: 60_000 });
    await card.locator('video').waitFor({ state: 'attached' });
    await expect(card.getByRole('link', { name: 'Download' }).getAttribute('href')).resolves.toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

    // The chosen transport survives a reload, and nothing tried a WebSocket.
    await page.reload();
    await expect(page.getByLabel('Live updates over').inputValue()).resolves.toBe(label === 'SSE' ? 'sse' : 'multipart');
    await page.locator('#connection', { hasText: `Connected over ${label}.` }).waitFor({ timeout: 30_000 });
    await expect(page.evaluate('window.blockedWebSockets')).resolves.toBe(0);
    expect(browser.requests.filter((url) => url.startsWith('ws:'))).toEqual([]);
    expect(browser.offsite).toEqual([]);
    expect(browser.problems).toEqual([]);
  }

  it('follows a generation to its video over GraphQL over SSE', async () => {
    await withScreenshotOnFailure(browser.page, 'failed-transport-sse', () => followToVideo('SSE', 'sse-watcher'));
    expect(accepts).toContain('text/event-stream');
  });

  it('follows a generation to its video over multipart HTTP', async () => {
    await withScreenshotOnFailure(browser.page, 'failed-transport-multipart', () => followToVideo('Multipart HTTP', 'multipart-watcher'));
    expect(accepts.some((accept) => /^multipart\/mixed;subscriptionSpec="1\.0"/.test(accept))).toBe(true);
  });

  it('left on WebSocket, says that it could not connect and follows over SSE instead', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-transport-fallback', async () => {
      const key = await gw.keyFor('fallback-watcher');
      await page.goto(progressUrl());
      await page.getByLabel('Live updates over').selectOption({ label: 'WebSocket' });
      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      await page.locator('#connection', { hasText: 'Connected over SSE (WebSocket could not connect here).' }).waitFor({ timeout: 30_000 });
      await expect(page.evaluate('window.blockedWebSockets')).resolves.toBeGreaterThan(0);
      // The choice stays WebSocket: on a network that allows it, the next visit uses it.
      await expect(page.getByLabel('Live updates over').inputValue()).resolves.toBe('websocket');

      const prompt = 'a heron followed after the fallback';
      await gqlData(gw, key, CreateVideoGenerationDocument, { input: { model: 'google/veo-3.0-fast', prompt, durationSeconds: 4 } });
      await page.locator('li.card', { hasText: prompt }).locator('.status', { hasText: 'Ready' }).waitFor({ timeout: 60_000 });
      expect(accepts).toContain('text/event-stream');
      // The blocked WebSocket is the page's to handle: no unhandled rejection, no console error
      // but Chromium's own report of the blocked connection (here by the page's CSP).
      expect(browser.problems.filter((p) => !p.includes("'ws://127.0.0.1:1/'"))).toEqual([]);
    });
  });
});
