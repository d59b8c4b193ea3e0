/**
 * The playground and the progress page in a real browser (Debian's Chromium), against a real
 * gateway and simulator on 127.0.0.1.
 */
import { gqlData, startGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { CreateVideoGenerationDocument } from '../../src/web/generated/graphql';
import type { Page } from 'playwright-core';
import { CHROMIUM, hasChromium, openBrowser, withScreenshotOnFailure, type BrowserSession } from './browser';

if (!hasChromium) console.warn(`!! SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

jest.setTimeout(45_000);

describeWithChromium('browser pages', () => {
  let gw: TestGateway;
  let browser: BrowserSession;
  let key: string;

  beforeAll(async () => {
    // Slow enough that a page shows a generation in progress before it completes (Veo 3 Fast: ~5 s).
    gw = await startGateway({ timeScale: 0.1 });
    key = await gw.keyFor('browser-user');
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('the playground runs a subscription and streams its results into the response pane', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'playground', async () => {
      const response = await page.goto(gw.app.url);
      expect(response!.headers()['content-type']).toMatch(/^text\/html/);
      expect(response!.headers()['content-security-policy']).toContain("default-src 'self'");

      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      // A tab switched before the editor exists is lost (the editor opens on the first tab), so
      // wait for the editor first, as a person does by seeing it.
      await waitForEditorText(page, /query Models/, 'the editor to open on the first tab');
      await page.getByRole('tab', { name: /Mine/ }).click();
      await waitForEditorText(page, /subscription Mine/, 'the Mine tab in the editor');
      // No settle time: the playground sends the operation in the editor's text even while
      // GraphiQL's own idea of the operation name still lags the tab switch.
      await page.locator('.graphiql-execute-button').click();
      await sleepUntilSubscribed(gw);

      const { createVideoGeneration } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'google/veo-3.0-fast', prompt: 'a lighthouse seen from the playground' },
      });
      const seen = new Set<string>();
      await waitFor(
        'the response pane to show the generation COMPLETED',
        async () => {
          // Monaco renders spaces as no-break spaces.
          const text = (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
          for (const status of text.match(/"status": "[A-Z_]+"/g) ?? []) seen.add(status);
          return text.includes(createVideoGeneration.id) && text.includes('"status": "COMPLETED"');
        },
        20_000,
        50,
      );
      // More than one payload arrived: the pane changed while the generation ran.
      expect(seen.size).toBeGreaterThan(1);
      // The editor's language services run in workers served by the gateway.
      expect(browser.requests.filter((url) => url.includes('/playground/workers/'))).toEqual(expect.arrayContaining([expect.stringContaining('graphql.worker.js')]));
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page creates a generation, shows its progress and plays the video', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'progress', async () => {
      await page.goto(gw.app.url.replace(/\/graphql$/, '/'));
      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      await page.locator('#create').waitFor({ state: 'visible' });

      await page.selectOption('select[name=model]', 'google/veo-3.0-fast');
      // Only the options this model allows are offered.
      expect(await page.locator('select[name=durationSeconds] option').allInnerTexts()).toEqual(['4', '6', '8']);
      await page.selectOption('select[name=durationSeconds]', '4');
      await page.fill('textarea[name=prompt]', 'a paper boat on a rainy street');
      await page.click('button[type=submit]');

      const item = page.locator('li.generation', { hasText: 'a paper boat on a rainy street' });
      // In progress: status from the subscription, and a bar that moves between events.
      const generating = page.locator('li.generation.status-GENERATING progress');
      await generating.waitFor({ state: 'visible', timeout: 10_000 });
      const early = await generating.evaluate((p: { value: number }) => p.value);
      expect(early).toBeLessThan(1);
      await waitFor('the bar to move while GENERATING', async () => (await generating.evaluate((p: { value: number }) => p.value)) > early, 5_000, 100);
      await item.locator('video').waitFor({ state: 'attached', timeout: 20_000 });
      await expect(item.locator('.status').innerText()).resolves.toBe('COMPLETED');

      const video = item.locator('video');
      const first = await waitFor('the video to have decoded frames', () => video.evaluate((v: VideoElement) => (v.readyState >= 2 ? v.currentTime : null)), 10_000);
      const later = await waitFor('the video to advance', () => video.evaluate((v: VideoElement, t: number) => (v.currentTime > t + 0.2 ? v.currentTime : null), first), 10_000);
      expect(later).toBeGreaterThan(first);
      // Debian's Chromium decodes the simulator's H.264 MP4: frames of a real size, no media error.
      const state = await video.evaluate((v: VideoElement) => ({ paused: v.paused, error: v.error?.code ?? null, width: v.videoWidth }));
      expect(state).toEqual({ paused: false, error: null, width: expect.any(Number) });
      expect(state.width).toBeGreaterThan(0);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page shows a generation made elsewhere, live, and the error when it fails', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'progress-failure', async () => {
      // The key is still in localStorage from the previous test: the page connects by itself.
      await page.goto(gw.app.url.replace(/\/graphql$/, '/'));
      await page.locator('#create').waitFor({ state: 'visible' });
      await expect(page.locator('#api-key').inputValue()).resolves.toBe(key);

      const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'veo2', prompt: 'a generation that will fail' },
      });
      gw.simulator.control.forceOutcome(g.upstreamId!, 'error');
      const item = page.locator('li.generation', { hasText: 'a generation that will fail' });
      await item.locator('.status', { hasText: 'FAILED' }).waitFor({ timeout: 15_000 });
      await expect(item.locator('.error').innerText()).resolves.toMatch(/^UPSTREAM_FAILED: .+/);
      expect(await item.locator('video').count()).toBe(0);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });
});

/** Waits until the playground's subscription is registered on the gateway. */
async function sleepUntilSubscribed(gw: TestGateway): Promise<void> {
  await waitFor('the playground subscription', async () => {
    const metrics = await gw.app.metrics.registry.getSingleMetricAsString('gateway_subscriptions');
    return /gateway_subscriptions(\{[^}]*\})? [1-9]/.test(metrics);
  });
}

/** Waits until the playground's query editor shows `text` (Monaco renders spaces as no-break spaces). */
async function waitForEditorText(page: Page, text: RegExp, what: string): Promise<void> {
  await waitFor(what, async () => text.test((await page.locator('.graphiql-query-editor').innerText()).replace(/\s+/g, ' ')), 15_000, 50);
}

/** The parts of HTMLVideoElement read here (the test code has no DOM types). */
interface VideoElement {
  readyState: number;
  currentTime: number;
  paused: boolean;
  videoWidth: number;
  error: { code: number } | null;
}
