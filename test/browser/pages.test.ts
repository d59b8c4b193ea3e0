/**
 * The playground and the progress page in a real browser (Debian's Chromium), against a real
 * gateway and simulator on 127.0.0.1.
 */
import { gqlData, startGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { CreateVideoGenerationDocument, VideoGenerationDocument, VideoModelsDocument } from '../../src/web/generated/graphql';
import type { Page } from 'playwright-core';
import { lowContrastText, unnamedControls } from './accessibility';
import { CHROMIUM, hasChromium, openBrowser, saveScreenshot, withScreenshotOnFailure, type BrowserSession } from './browser';

if (!hasChromium) console.warn(`!! SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

jest.setTimeout(45_000);

/** The time left of a running generation with its range, in each part of the countdown (src/web/progress/time-left.ts). */
const ETA_WITH_RANGE =
  /^About [\d a-z]+ left, (between [\d a-z]+ and|at most) [\d a-z]+$|^Any moment now: within [\d a-z]+$|^Taking longer than usual…$/;

describeWithChromium('browser pages', () => {
  let gw: TestGateway;
  let browser: BrowserSession;
  let key: string;
  let newcomerKey: string;

  beforeAll(async () => {
    // Slow enough that a page shows a generation in progress before it completes (Veo 3 Fast: ~5 s).
    gw = await startGateway({ timeScale: 0.1 });
    key = await gw.keyFor('browser-user');
    newcomerKey = await gw.keyFor('browser-newcomer');
    browser = await openBrowser();
    // A gateway and a browser starting on a loaded machine can take longer than one test.
  }, 120_000);
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
      expect(browser.requests.filter((url) => url.includes('/playground/workers/'))).toEqual(
        expect.arrayContaining([expect.stringContaining('graphql.worker.js')]),
      );
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page takes a right key after a wrong one without an unhandled rejection', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress-wrong-key', async () => {
      await page.goto(progressUrl(gw));
      await page.fill('#api-key', 'vgw_not-a-real-key');
      await page.press('#api-key', 'Tab');
      await page.locator('#connection', { hasText: 'That API key is not valid' }).waitFor({ timeout: 30_000 });
      await expect(page.locator('#api-key').getAttribute('aria-invalid')).resolves.toBe('true');
      // Meanwhile the refused WebSocket was retrying; the right key closes that client.
      await page.fill('#api-key', newcomerKey);
      await page.press('#api-key', 'Tab');
      await page.locator('#create').waitFor({ state: 'visible' });
      // graphql-ws rejects the abandoned attempt when its retry wait ends (at most ~4 s after the refusal).
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      // Chromium logs every HTTP error response to the console; the refused key's 401 is the one expected.
      const expected = (p: string) => /status of 401 \(Unauthorized\)/.test(p);
      expect(browser.problems.filter((p) => !expected(p))).toEqual([]);
      browser.problems.splice(0, browser.problems.length, ...browser.problems.filter((p) => !expected(p)));
      expect(browser.offsite).toEqual([]);
    });
  });

  it('the progress page, empty: human labels, models by name, and inline messages instead of a request', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress-empty', async () => {
      // The newcomer's key is in localStorage from the previous test: the page connects by itself.
      await page.goto(progressUrl(gw));
      await page.locator('#create').waitFor({ state: 'visible' });
      await expect(page.locator('#empty').innerText()).resolves.toMatch(/No videos yet/);
      await saveScreenshot(page, 'progress-empty');
      expect(await lowContrastText(page)).toEqual([]);
      expect(await unnamedControls(page)).toEqual([]);

      // Models by name, grouped by vendor; no enum codes or field names as labels anywhere.
      await expect(page.locator('#model optgroup').first().getAttribute('label')).resolves.toBe('Google');
      // Google, the gateway's first vendor, leads; its first model is picked to begin with.
      await expect(page.locator('#model option:checked').innerText()).resolves.toBe('Gemini Omni Flash (preview)');
      await page.getByLabel('Model').selectOption({ label: 'Veo 3 Fast (text to video, audio)' });
      await expect(page.getByRole('group', { name: 'Length' }).getByRole('radio').count()).resolves.toBe(3);
      await expect(page.getByRole('group', { name: 'Shape' }).locator('label').allInnerTexts()).resolves.toEqual([
        'Default',
        '16:9 wide',
        '9:16 tall',
      ]);
      const text = await page.locator('#create').innerText();
      expect(text).not.toMatch(/durationSeconds|aspectRatio|LANDSCAPE_16_9|RES_720P|VEO3_FAST/);

      // Submitting without a prompt: a message next to the prompt, focus on it, nothing sent.
      const created = () => browser.requests.length;
      const before = created();
      await page.getByRole('button', { name: 'Generate video' }).click();
      await expect(page.locator('#prompt-error').innerText()).resolves.toBe('Describe the video you want.');
      await expect(page.evaluate('document.activeElement?.id')).resolves.toBe('prompt');
      await expect(page.locator('#prompt').getAttribute('aria-invalid')).resolves.toBe('true');
      expect(created()).toBe(before);

      // A required picture with a bad link: the message names what to give, next to that field.
      await page.getByLabel('Model').selectOption({ label: 'Veo 3 Fast (image to video, audio)' });
      await page.getByLabel('Prompt').fill('a kite over the dunes');
      await page.getByLabel('First frame').fill('kite.png');
      await page.getByRole('button', { name: 'Generate video' }).click();
      await expect(page.locator('[data-field=imageUrl] .field-error').innerText()).resolves.toBe('Use an https:// link or a data:image/… URI.');
      // The prompt's message went away as soon as it was filled in.
      await expect(page.locator('#prompt-error').innerText()).resolves.toBe('');
      await saveScreenshot(page, 'progress-invalid');

      // A list of pictures: one link field to start with, more on request up to the model's maximum.
      const { videoModels } = await gqlData(gw, key, VideoModelsDocument, {});
      const references = videoModels.find((m) => m.name === 'Veo 3.1 (reference images to video)')!.inputs.find((i) => i.name === 'imageUrls')!;
      await page.getByLabel('Model').selectOption({ label: 'Veo 3.1 (reference images to video)' });
      const pictures = page.getByRole('group', { name: 'Reference pictures' });
      await expect(pictures.getByRole('textbox').count()).resolves.toBe(1);
      const more = pictures.getByRole('button', { name: /Add another link/ });
      for (let i = 1; i < references.maxItems! && (await more.isVisible()); i++) await more.click();
      await expect(pictures.getByRole('textbox').count()).resolves.toBe(references.maxItems);
      await expect(more.isVisible()).resolves.toBe(false);
      await pictures.getByRole('textbox').nth(0).fill('https://example.com/samples/cat.jpg');
      await pictures.getByRole('textbox').nth(1).fill('cat.jpg');
      await page.getByRole('button', { name: 'Generate video' }).click();
      await expect(page.locator('[data-field=imageUrls] .field-error').innerText()).resolves.toBe('Use https:// links or data:image/… URIs.');
      expect(await lowContrastText(page)).toEqual([]);
      expect(await unnamedControls(page)).toEqual([]);
      expect(created()).toBe(before);
      expect(await page.locator('li.card').count()).toBe(0);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page creates a generation, shows its progress and plays the video', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress', async () => {
      await page.goto(progressUrl(gw));
      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      await page.locator('#connection', { hasText: 'Connected' }).waitFor();
      await page.locator('#create').waitFor({ state: 'visible' });

      await page.getByLabel('Model').selectOption({ label: 'Veo 3 Fast (text to video, audio)' });
      // Only the lengths this model allows are offered, in words.
      expect(await page.getByRole('group', { name: 'Length' }).locator('label').allInnerTexts()).toEqual(['4 s', '6 s', '8 s']);
      await page.getByRole('radio', { name: '4 s' }).check();
      await page.getByLabel('Prompt').fill('a paper boat on a rainy street');
      await page.getByRole('button', { name: 'Generate video' }).click();

      const item = page.locator('li.card', { hasText: 'a paper boat on a rainy street' });
      // The model by name and the options it was created with, in words (the shape was left to the model's default).
      await expect(item.locator('.settings').innerText()).resolves.toBe('Veo 3 Fast (text to video, audio) · 4 s · 720p');
      // In progress: status from the subscription, and a bar and a time left that move between events.
      const generating = item.locator('progress');
      await page.locator('li.card.status-GENERATING progress').waitFor({ state: 'visible', timeout: 10_000 });
      await expect(item.locator('.status').innerText()).resolves.toBe('Generating');
      const early = await generating.evaluate((p: { value: number }) => p.value);
      expect(early).toBeLessThan(1);
      // The time left with its range (whichever part of it the countdown is in), never a bare figure.
      await expect(item.locator('.eta').innerText()).resolves.toMatch(ETA_WITH_RANGE);
      // The first Veo 3 Fast 4 s clip this gateway makes: its estimate is the catalogue's, and says so.
      await expect(item.locator('.eta-basis').innerText()).resolves.toMatch(/^Rough estimate: from the model's stated time/);
      await expect(item.getByRole('button', { name: 'Cancel' }).isVisible()).resolves.toBe(true);
      await saveScreenshot(page, 'progress-running');
      await waitFor(
        'the bar to move while GENERATING',
        async () => (await generating.evaluate((p: { value: number }) => p.value)) > early,
        5_000,
        100,
      );
      await item.locator('video').waitFor({ state: 'attached', timeout: 20_000 });
      await expect(item.locator('.status').innerText()).resolves.toBe('Ready');
      await expect(item.getByRole('link', { name: 'Download' }).getAttribute('href')).resolves.toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(await item.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

      // A video that finishes while watched starts by itself.
      const video = item.locator('video');
      const first = await waitFor(
        'the video to have decoded frames',
        () => video.evaluate((v: VideoElement) => (v.readyState >= 2 ? v.currentTime : null)),
        10_000,
      );
      const later = await waitFor(
        'the video to advance',
        () => video.evaluate((v: VideoElement, t: number) => (v.currentTime > t + 0.2 ? v.currentTime : null), first),
        10_000,
      );
      expect(later).toBeGreaterThan(first);
      // Debian's Chromium decodes the simulator's H.264 MP4: frames of a real size, no media error.
      const state = await video.evaluate((v: VideoElement) => ({ paused: v.paused, error: v.error?.code ?? null, width: v.videoWidth }));
      expect(state).toEqual({ paused: false, error: null, width: expect.any(Number) });
      expect(state.width).toBeGreaterThan(0);
      await saveScreenshot(page, 'progress-completed');
      expect(await lowContrastText(page)).toEqual([]);
      expect(await unnamedControls(page)).toEqual([]);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page shows a generation made elsewhere, live, and the error in words when it fails', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress-failure', async () => {
      // The key is still in localStorage from the previous test: the page connects by itself.
      await page.goto(progressUrl(gw));
      await page.locator('#create').waitFor({ state: 'visible' });
      await expect(page.locator('#api-key').inputValue()).resolves.toBe(key);

      const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'veo2', prompt: 'a generation that will fail' },
      });
      gw.simulator.control.forceOutcome(g.upstreamId!, 'error', { message: 'The prompt was refused by the safety filter.' });
      const item = page.locator('li.card', { hasText: 'a generation that will fail' });
      await item.locator('.status', { hasText: 'Failed' }).waitFor({ timeout: 15_000 });
      await expect(item.locator('.error').innerText()).resolves.toBe('The video service could not make this video.');
      await expect(item.locator('.error-detail').innerText()).resolves.toMatch(/^Details: .+/);
      expect(await item.locator('video').count()).toBe(0);
      expect(await item.locator('progress').count()).toBe(0);
      await saveScreenshot(page, 'progress-failed');
      expect(await lowContrastText(page)).toEqual([]);
      expect(await unnamedControls(page)).toEqual([]);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page says when a generation takes longer than its estimate', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress-overrun', async () => {
      await page.goto(progressUrl(gw));
      await page.locator('#create').waitFor({ state: 'visible' });
      const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'google/veo-3.0-fast', prompt: 'a clip slower than every estimate', durationSeconds: 4 },
      });
      // The upstream keeps it generating long past the high end of its range (about 6 s at this time scale).
      gw.simulator.control.forceOutcome(g.upstreamId!, 'pending');
      const item = page.locator(`li.card[data-id="${g.id}"]`);
      await waitFor(
        'the card to say it takes longer than usual',
        async () => (await item.locator('.eta').innerText()) === 'Taking longer than usual…',
        30_000,
        200,
      );
      await expect(item.locator('.status').innerText()).resolves.toBe('Generating');
      expect(await lowContrastText(page)).toEqual([]);
      await item.getByRole('button', { name: 'Cancel' }).click();
      await item.locator('.status', { hasText: 'Cancelled' }).waitFor({ timeout: 10_000 });
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });

  it('the progress page cancels from the keyboard, plays one video at a time, and fits a phone', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress-cancel', async () => {
      await page.goto(progressUrl(gw));
      await page.locator('#create').waitFor({ state: 'visible' });
      // Videos that were already done when the page opened do not start by themselves.
      await page.locator('li.card video').first().waitFor({ state: 'attached' });
      const paused = await page.locator('li.card video').evaluateAll((videos) => videos.map((v) => (v as unknown as VideoElement).paused));
      expect(paused.length).toBeGreaterThan(0);
      expect(paused.every(Boolean)).toBe(true);

      const { createVideoGeneration: slow } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'google/veo3', prompt: 'a slow sunrise over the harbour' },
      });
      const slowCard = page.locator(`li.card[data-id="${slow.id}"]`);
      await slowCard.getByRole('button', { name: 'Cancel' }).focus();
      await page.keyboard.press('Enter');
      await slowCard.locator('.status', { hasText: 'Cancelled' }).waitFor({ timeout: 10_000 });
      await expect(slowCard.locator('.error').innerText()).resolves.toMatch(/^You cancelled it\./);
      expect(await slowCard.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

      // A second finished video: starting one pauses the other.
      const { createVideoGeneration: second } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'google/veo-3.0-fast', prompt: 'a second video to play', durationSeconds: 4 },
      });
      const secondVideo = page.locator(`li.card[data-id="${second.id}"] video`);
      await secondVideo.waitFor({ state: 'attached', timeout: 20_000 });
      const firstVideo = page.locator('li.card', { hasText: 'a paper boat on a rainy street' }).locator('video');
      await firstVideo.evaluate((v: { play(): Promise<void> }) => v.play());
      await waitFor(
        'only the first video to play',
        async () => (await firstVideo.evaluate((v: VideoElement) => !v.paused)) && (await secondVideo.evaluate((v: VideoElement) => v.paused)),
      );
      await secondVideo.evaluate((v: { play(): Promise<void> }) => v.play());
      await waitFor(
        'the first video to pause when the second starts',
        async () => (await firstVideo.evaluate((v: VideoElement) => v.paused)) && (await secondVideo.evaluate((v: VideoElement) => !v.paused)),
      );

      // Every state at once, for the README.
      const { createVideoGeneration: running } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: {
          model: 'google/veo3',
          prompt: 'a hot-air balloon drifting over a misty valley at dawn',
          durationSeconds: 8,
          aspectRatio: 'LANDSCAPE_16_9',
          resolution: 'RES_1080P',
        },
      });
      await page.locator(`li.card[data-id="${running.id}"] progress`).waitFor();
      await saveScreenshot(page, 'progress-overview');

      // A phone-sized screen: nothing wider than the screen, the button within reach.
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        await page.goto(progressUrl(gw));
        await page.locator('li.card').first().waitFor();
        // Finished videos show a frame, not a black box, before anyone presses play.
        await waitFor(
          'every video to show a frame',
          () => page.locator('li.card video').evaluateAll((videos) => videos.every((v) => (v as unknown as VideoElement).readyState >= 2)),
          10_000,
          100,
        );
        await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(390);
        const button = (await page.getByRole('button', { name: 'Generate video' }).boundingBox())!;
        expect(button.x + button.width).toBeLessThanOrEqual(390);
        await saveScreenshot(page, 'progress-phone');
        expect(await lowContrastText(page)).toEqual([]);
        expect(await unnamedControls(page)).toEqual([]);
      } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
      }
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  });
  it('the progress page builds its form for any model: every vendor, options, a model without a prompt, both followed to COMPLETED', async () => {
    const { page } = browser;
    await withScreenshotOnFailure(page, 'failed-progress-models', async () => {
      await page.goto(progressUrl(gw));
      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      await page.locator('#connection', { hasText: 'Connected' }).waitFor();
      await page.locator('#create').waitFor({ state: 'visible' });

      // Every model of every vendor, by name, under its vendor.
      const { videoModels } = await gqlData(gw, key, VideoModelsDocument, {});
      const groups = await page.locator('#model optgroup').evaluateAll((nodes) =>
        nodes.map((g) => ({
          vendor: g.getAttribute('label'),
          models: [...g.querySelectorAll('option')].map((o) => ({ id: o.getAttribute('value'), name: o.textContent })),
        })),
      );
      expect(new Set(groups.map((g) => g.vendor))).toEqual(new Set(videoModels.map((m) => m.vendor)));
      expect(groups.flatMap((g) => g.models)).toHaveLength(videoModels.length);
      for (const group of groups)
        for (const option of group.models)
          expect(videoModels.find((m) => m.id === option.id)).toMatchObject({ vendor: group.vendor, name: option.name });

      // A Kling model with options: its controls come from its inputs, in words.
      await page.getByLabel('Model').selectOption({ label: 'Kling Video V3 Pro Text To Video' });
      await page.locator('summary', { hasText: 'More options' }).click();
      await expect(page.getByRole('group', { name: 'Shot type' }).locator('label').allInnerTexts()).resolves.toEqual(['Customize', 'Intelligent']);
      await expect(page.getByRole('group', { name: 'Runs on' }).locator('label:has(input:checked)').innerText()).resolves.toBe('Automatic');
      await expect(page.getByLabel('Multi prompt').evaluate((node) => node.tagName)).resolves.toBe('TEXTAREA');
      expect(await page.locator('#create').innerText()).not.toMatch(/shotType|cfgScale|multiPrompt|negativePrompt|LANDSCAPE_16_9|RES_\d/);
      await saveScreenshot(page, 'progress-kling-options');

      // Checked from the same data before sending: the prompt strength's range.
      const before = browser.requests.length;
      await page.locator('#prompt').fill('a red fox crossing a snowy field, two shots');
      await page.getByLabel('Prompt strength').fill('3');
      await page.getByRole('button', { name: 'Generate video' }).click();
      await expect(page.locator('[data-field="cfgScale"] .field-error').innerText()).resolves.toBe('Use a number from 0 to 1.');
      expect(browser.requests.length).toBe(before);

      await page.getByLabel('Prompt strength').fill('0.5');
      await page.getByRole('radio', { name: 'Intelligent' }).check();
      const cards = await page.locator('li.card').count();
      await page.getByRole('button', { name: 'Generate video' }).click();
      const foxCard = page.locator('li.card', { hasText: 'a red fox crossing a snowy field' });
      await foxCard.waitFor();
      const foxId = (await foxCard.getAttribute('data-id'))!;
      const { videoGeneration: fox } = await gqlData(gw, key, VideoGenerationDocument, { id: foxId });
      expect(fox!.model).toBe('klingai/video-v3-pro-text-to-video');
      expect(fox!.settings).toMatchObject({ cfgScale: 0.5, options: { shotType: 'intelligent' } });
      await expect(foxCard.locator('.settings').innerText()).resolves.toMatch(/^Kling Video V3 Pro Text To Video · 5 s · 16:9 wide$/);

      // An error the API finds (here inside a JSON option) is shown next to the control it names.
      await page.getByLabel('Model').selectOption({ label: 'Kling V1.5 Pro Text To Video' });
      await page.locator('#prompt').fill('a lantern swinging in the wind');
      await page.locator('summary', { hasText: 'More options' }).click();
      await page.getByLabel('Advanced camera control').fill('{ "type": ');
      await page.getByRole('button', { name: 'Generate video' }).click();
      await expect(page.locator('[data-field="options.advancedCameraControl"] .field-error').innerText()).resolves.toBe(
        'This is not valid JSON: write an object in { }.',
      );
      await page.getByLabel('Advanced camera control').fill('{ "movement_type": "zoom", "movement_value": 40 }');
      await page.getByRole('button', { name: 'Generate video' }).click();
      const apiError = page.locator('[data-field="options.advancedCameraControl"] .field-error');
      await waitFor('the API error next to the JSON option', async () => (await apiError.innerText()).includes('movement_value'), 10_000, 100);
      await expect(page.locator('#create-error').innerText()).resolves.toBe('');
      await expect(page.evaluate('document.activeElement?.id')).resolves.toBe('field-options-advancedCameraControl');
      await saveScreenshot(page, 'progress-api-error');

      // A model without a prompt: the prompt field goes away, its required inputs say so.
      await page.getByLabel('Model').selectOption({ label: 'Kling Kling Video V1.6 Standard Effects' });
      await expect(page.locator('#prompt').isVisible()).resolves.toBe(false);
      await page.getByRole('button', { name: 'Generate video' }).click();
      await expect(page.locator('[data-field="imageUrl"] .field-error').innerText()).resolves.toBe('First frame is needed for this model.');
      await expect(page.locator('[data-field="options.effectScene"] .field-error').innerText()).resolves.toBe(
        'Effect scene is needed for this model.',
      );
      await page.getByLabel('First frame').fill('https://example.com/samples/cat.jpg');
      await page.getByLabel('Effect scene').selectOption({ label: 'Pet lion' });
      await saveScreenshot(page, 'progress-no-prompt');
      await page.getByRole('button', { name: 'Generate video' }).click();
      await waitFor('a card for the effect', async () => (await page.locator('li.card').count()) === cards + 2, 10_000, 100);
      const effectCard = page.locator('li.card').first();
      const effectId = (await effectCard.getAttribute('data-id'))!;
      const { videoGeneration: effect } = await gqlData(gw, key, VideoGenerationDocument, { id: effectId });
      expect(effect).toMatchObject({
        model: 'klingai/kling-video-v1.6-standard-effects',
        prompt: null,
        settings: { imageUrl: 'https://example.com/samples/cat.jpg', options: { effectScene: 'pet_lion' } },
      });
      // Its card is named by its model, not left blank.
      await expect(effectCard.locator('.prompt').innerText()).resolves.toBe('Kling Kling Video V1.6 Standard Effects, without a prompt');

      // Both followed live to the end.
      for (const card of [foxCard, effectCard]) {
        await card.locator('.status', { hasText: 'Ready' }).waitFor({ timeout: 60_000 });
        await expect(card.getByRole('link', { name: 'Download' }).isVisible()).resolves.toBe(true);
      }
      await saveScreenshot(page, 'progress-models-completed');
      expect(await lowContrastText(page)).toEqual([]);
      expect(await unnamedControls(page)).toEqual([]);
      expect(browser.offsite).toEqual([]);
      expect(browser.problems).toEqual([]);
    });
  }, 120_000);
});

const progressUrl = (gw: TestGateway) => gw.app.url.replace(/\/graphql$/, '/');

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
