/**
 * The pages' HTTP side: what a browser gets at `/` and at the GraphQL path, with which headers,
 * and that GraphQL clients at the same path are unaffected.
 */
import { loadConfig } from '../../src/config';
import { VideoModelsDocument, gqlData, startGateway, useGateway } from '../helpers/gateway';

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('static pages', () => {
  const gw = useGateway();
  let base: string;
  beforeAll(async () => {
    base = gw.app.url.replace(/\/graphql$/, '');
  });

  it('serves the progress page at / with a self-only Content-Security-Policy', async () => {
    const res = await fetch(`${base}/`, { headers: { accept: HTML } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${base.slice('http://'.length)}`);
    expect(csp).toContain(`media-src 'self' ${gw.simulator.url.replace(/\/$/, '')} https:`);
    expect(csp).not.toMatch(/unsafe-eval|\*/);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/progress/progress.js"></script>');
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
  });

  it('serves the playground to browsers at the GraphQL path, and JSON to GraphQL clients there', async () => {
    const page = await fetch(gw.app.url, { headers: { accept: HTML } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/playground/playground.js');
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");

    const get = await fetch(`${gw.app.url}?query=${encodeURIComponent('{ videoModels { id } }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(get.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    expect(((await get.json()) as { data: { videoModels: unknown[] } }).data.videoModels.length).toBeGreaterThan(0);
    const models = await gqlData(gw, await gw.keyFor('static'), VideoModelsDocument);
    expect(models.videoModels.map((m) => m.id)).toContain('google/veo-3.0-fast');
  });

  it('serves scripts, styles, fonts and workers with their content types and cache rules', async () => {
    const js = await fetch(`${base}/progress/progress.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = js.headers.get('etag')!;
    expect((await fetch(`${base}/progress/progress.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    expect((await fetch(`${base}/playground/playground.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base}/playground/workers/graphql.worker.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const playground = await (await fetch(`${base}/playground/playground.js`)).text();
    const chunk = /["'](\.\/|\.\.\/)chunks\/([\w-]+\.js)["']/.exec(playground)![2];
    const hashed = await fetch(`${base}/chunks/${chunk}`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('serves nothing outside the built files', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/progress/index.html', '/nope.js', '/playground']) {
      const res = await fetch(`${base}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    expect((await fetch(`${base}/progress/progress.js`, { method: 'POST' })).status).toBe(404);
  });

  it('PLAYGROUND turns the playground off (and it defaults to off in production)', async () => {
    expect(loadConfig({ NODE_ENV: 'production' }).playground).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', PLAYGROUND: 'true' }).playground).toBe(true);
    expect(loadConfig({}).playground).toBe(true);
    expect(() => loadConfig({ PLAYGROUND: 'maybe' })).toThrow(/PLAYGROUND/);

    const off = await startGateway({ env: { PLAYGROUND: 'false' } });
    try {
      const res = await fetch(off.app.url, { headers: { accept: HTML } });
      expect(res.headers.get('content-type')).not.toMatch(/^text\/html/);
      expect(await res.text()).not.toMatch(/<html|cdn\./i); // nor Apollo's CDN landing page
      expect((await fetch(off.app.url.replace(/\/graphql$/, '/playground/playground.js'))).status).toBe(404);
      expect((await fetch(off.app.url.replace(/\/graphql$/, '/'))).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
