/**
 * Cross-origin access to the GraphQL path over HTTP, for frontend apps on other origins that call
 * the gateway with a JWT bearer token.
 *
 * Only the origins listed in CORS_ORIGINS get CORS headers; any other origin gets none, so the
 * browser keeps the answer from the page. Credentials are `Authorization` headers, never cookies,
 * so no response says `Access-Control-Allow-Credentials`: a page can only act with a token it holds.
 * Same-origin pages (the playground, the progress page) need none of this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { originAllowed, type CorsOrigins } from '../cors-origins';

/** Request headers a cross-origin page may send: credentials, JSON, Apollo's CSRF-prevention headers, tracing. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'x-request-id',
];

/** Response headers a cross-origin page may read besides the safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

/** How long a browser may reuse a preflight answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * The hook for the GraphQL path: adds CORS headers to the answer of an allowed origin, and answers
 * its preflight (`OPTIONS` with `Access-Control-Request-Method`) with 204. Returns true when it
 * answered the request itself. With no origins configured it does nothing at all.
 */
export function createCors(allowed: CorsOrigins): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (allowed !== '*' && allowed.length === 0) return false;
    // With a list the answer depends on Origin (allowed or not), so shared caches must keep them apart;
    // `*` is the same for everyone.
    if (allowed !== '*') appendVary(res, 'Origin');
    const origin = req.headers.origin;
    if (!originAllowed(allowed, origin)) return false;
    res.setHeader('access-control-allow-origin', allowed === '*' ? '*' : origin!);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('access-control-allow-methods', 'GET, POST');
      res.setHeader('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '));
      res.setHeader('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
      res.writeHead(204);
      res.end();
      return true;
    }
    res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(', '));
    return false;
  };
}

function appendVary(res: ServerResponse, name: string): void {
  const current = res.getHeader('vary');
  res.setHeader('vary', current ? `${String(current)}, ${name}` : name);
}
