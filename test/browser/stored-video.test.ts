/**
 * The progress page plays a finished video from the gateway's media store, in Debian's Chromium,
 * after the upstream's link is gone: the simulator (the upstream and its file host) is stopped
 * before the page opens, so only the gateway's signed link can play it.
 */
import { CreateVideoGenerationDocument } from '../../src/web/generated/graphql';
import { sampleVideo } from '../../src/simulator/video';
import { gqlData, startGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { CHROMIUM, hasChromium, openBrowser, withScreenshotOnFailure, type BrowserSession } from './browser';

if (!hasChromium) console.warn(`!! SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

jest.setTimeout(60_000);

/** The parts of HTMLVideoElement read here (the test code has no DOM types). */
interface VideoElement {
  readyState: number;
  currentTime: number;
  muted: boolean;
  error: { code: number } | null;
  videoWidth: number;
  currentSrc: string;
  play(): Promise<void>;
}

describeWithChromium('a stored video in the browser', () => {
  let gw: TestGateway;
  let browser: BrowserSession;

  beforeAll(async () => {
    gw = await startGateway({ env: { MEDIA_STORE: 'folder' } });
    browser = await openBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    // The simulator was stopped by the test.
    await gw?.stop({ keepSimulator: true });
  });

  it("the progress page plays it through the gateway's signed link, with byte ranges, once the upstream's link is dead", async () => {
    const key = await gw.keyFor('viewer');
    const { createVideoGeneration } = await gqlData(gw, key, CreateVideoGenerationDocument, {
      input: { model: 'google/veo-3.0-fast', prompt: 'a kite over the dunes' },
    });
    const id = createVideoGeneration.id;
    const stored = await waitFor(
      'the copy to be stored',
      async () => {
        const g = await gw.app.store.getGeneration(id);
        return g?.video?.copy?.state === 'STORED' ? g : undefined;
      },
      60_000,
    );
    const upstreamLink = stored.video!.url;
    await gw.simulator.stop();
    await expect(fetch(upstreamLink)).rejects.toThrow();

    const media: { status: number; range: string | null }[] = [];
    browser.page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/media/'))
        media.push({ status: response.status(), range: response.request().headers()['range'] ?? null });
    });
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-stored-video', async () => {
      await page.goto(gw.app.url.replace(/\/graphql$/, '/'));
      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      const video = page.locator('li.card', { hasText: 'a kite over the dunes' }).locator('video');
      await video.waitFor({ state: 'attached', timeout: 20_000 });
      expect(await video.getAttribute('src')).toMatch(new RegExp(`^/media/${id}\\?exp=\\d+&sig=[\\w-]+(#t=0\\.1)?$`));
      await video.evaluate((v: VideoElement) => {
        v.muted = true;
        return v.play();
      });
      const first = await waitFor(
        'the video to have decoded frames',
        () => video.evaluate((v: VideoElement) => (v.readyState >= 2 ? v.currentTime : null)),
        15_000,
      );
      const later = await waitFor(
        'the video to advance',
        () => video.evaluate((v: VideoElement, t: number) => (v.currentTime > t + 0.2 ? v.currentTime : null), first),
        15_000,
      );
      expect(later).toBeGreaterThan(first);
      const state = await video.evaluate((v: VideoElement) => ({ error: v.error?.code ?? null, width: v.videoWidth, src: v.currentSrc }));
      expect(state.error).toBeNull();
      expect(state.width).toBeGreaterThan(0);
      expect(new URL(state.src).origin).toBe(new URL(gw.app.url).origin);
      // Chromium asks for ranges, and the gateway answers them with 206.
      expect(media.length).toBeGreaterThan(0);
      expect(media.every((r) => r.range !== null && r.status === 206)).toBe(true);
      expect(stored.video!.copy!.sizeBytes).toBe(sampleVideo().length);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });
});
