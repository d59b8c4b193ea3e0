/**
 * Loading `pg` as the gateway does: where there is no `navigator` (Node 20), pg's Cloudflare Workers
 * probe would build a `Response` and load Node's fetch implementation; the stand-in `navigator`
 * answers the probe instead, and is gone once pg has loaded.
 */
import { loadPg } from '../../../src/store/pg-package';

describe('loadPg', () => {
  const navigatorDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const responseDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'Response')!;
  let built: number;

  beforeEach(() => {
    jest.resetModules(); // pg probes once, when it loads
    built = 0;
    // As on Node 20: no navigator.
    if (navigatorDescriptor) delete (globalThis as { navigator?: unknown }).navigator;
    const Real = globalThis.Response; // a lazy getter on Node 20
    Object.defineProperty(globalThis, 'Response', {
      configurable: true,
      writable: true,
      value: class extends Real {
        constructor(...args: ConstructorParameters<typeof Response>) {
          super(...args);
          built++;
        }
      },
    });
  });

  afterEach(() => {
    Object.defineProperty(globalThis, 'Response', responseDescriptor);
    if (navigatorDescriptor) Object.defineProperty(globalThis, 'navigator', navigatorDescriptor);
  });

  it('loads pg without building a Response, and leaves no navigator behind', () => {
    const pg = loadPg();
    expect(typeof pg.Pool).toBe('function');
    expect(built).toBe(0);
    expect('navigator' in globalThis).toBe(false);
  });

  it('is what pg would do unguarded: the probe builds a Response', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the unguarded load, for comparison
    require('pg');
    expect(built).toBe(1);
  });
});
