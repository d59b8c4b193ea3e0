/**
 * The `pg` package, loaded without its Cloudflare Workers probe on Node 20.
 *
 * When `pg` loads, it asks whether it runs in a Cloudflare Worker: by `navigator.userAgent` where
 * `navigator` exists (Node 21 and later), else by building a `Response`. On Node 20 that `Response`
 * loads Node's own fetch implementation, about 4 MB of the gateway's idle memory in PostgreSQL mode,
 * for nothing: the gateway never runs in a Worker and calls the upstream through the undici package.
 * So on Node 20 a `navigator` that names Node is defined for the length of the (synchronous) load
 * only, and no other code can see it.
 */
import type Pg from 'pg';

export function loadPg(): typeof Pg {
  const standIn = !('navigator' in globalThis);
  if (standIn) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a static import would load pg before the stand-in exists
    return require('pg') as typeof Pg;
  } finally {
    if (standIn) delete (globalThis as { navigator?: unknown }).navigator;
  }
}
