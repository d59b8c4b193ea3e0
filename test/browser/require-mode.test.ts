/**
 * A production gateway (NODE_ENV=production: TRUSTED_DOCUMENTS=require with the committed manifest)
 * in Debian's Chromium: the progress page, whose operations are all in the manifest, follows a
 * generation to its video over each transport, and a document that is not in the manifest, sent
 * from the same page, is refused with PERSISTED_QUERY_REQUIRED.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { CHROMIUM, hasChromium, openBrowser, withScreenshotOnFailure, type BrowserSession } from './browser';

if (!hasChromium) console.warn(`!! SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

jest.setTimeout(120_000);

const MANIFEST = path.resolve(__dirname, '../../src/web/generated/persisted-documents.json');

/** The id of the manifest's document that defines `operation`, as the page's own client would send it. */
function manifestId(operation: string): string {
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
  const found = Object.entries(manifest).find(([, text]) => text.includes(operation));
  if (!found) throw new Error(`no document with "${operation}" in ${MANIFEST}`);
  return found[0];
}

describeWithChromium('a production gateway in require mode, in Chromium', () => {
  let gw: TestGateway;
  let browser: BrowserSession;

  beforeAll(async () => {
    gw = await startGateway({ timeScale: 0.1, env: { NODE_ENV: 'production', METRICS_TOKEN: 'metrics-token-for-tests' } });
    expect(gw.app.config.trustedDocuments.mode).toBe('require');
    browser = await openBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  const progressUrl = () => gw.app.url.replace(/\/graphql$/, '/');

  /** Creates a generation by the manifest's id (no text), as a client of this gateway must. */
  async function createByDocumentId(key: string, prompt: string): Promise<void> {
    const res = await fetch(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        documentId: manifestId('mutation CreateVideoGeneration'),
        variables: { input: { model: 'google/veo-3.0-fast', prompt, durationSeconds: 4 } },
      }),
    });
    const body = (await res.json()) as { errors?: unknown };
    expect(body.errors).toBeUndefined();
  }

  it.each(['WebSocket', 'SSE', 'Multipart HTTP'] as const)('the progress page follows a generation to its video over %s', async (label) => {
    const { page } = browser;
    await withScreenshotOnFailure(page, `failed-require-${label.replace(/\W+/g, '-').toLowerCase()}`, async () => {
      const key = await gw.keyFor(`require-${label.replace(/\W+/g, '-').toLowerCase()}`);
      await page.goto(progressUrl());
      await page.getByLabel('Live updates over').selectOption({ label });
      await page.fill('#api-key', key);
      await page.press('#api-key', 'Tab');
      await page.locator('#connection', { hasText: `Connected over ${label}.` }).waitFor({ timeout: 30_000 });
      const prompt = `a heron in require mode over ${label}`;
      await createByDocumentId(key, prompt);
      const card = page.locator('li.card', { hasText: prompt });
      await card.locator('.status', { hasText: 'Ready' }).waitFor({ timeout: 60_000 });
      await card.locator('video').waitFor({ state: 'attached' });
      expect(browser.problems).toEqual([]);
    });
  });

  it('refuses, from the same page, a document that is not in the manifest, with PERSISTED_QUERY_REQUIRED', async () => {
    const { page } = browser;
    const key = await gw.keyFor('require-ad-hoc');
    await page.goto(progressUrl());
    const answer = await page.evaluate(
      async ([url, bearer]) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
          body: JSON.stringify({ query: '{ videoModels { id } }' }),
        });
        return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } };
      },
      [gw.app.url, key] as const,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_REQUIRED']);
  });
});
