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

/** Any origin (`CORS_ORIGINS=*`), or the exact origins allowed. */
export type CorsOrigins = '*' | readonly string[];

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
 * Parses one configured origin into the form browsers send in `Origin` (lower-case host, no default
 * port): `scheme://host[:port]`, http or https, nothing else. Throws an Error saying what is wrong.
 */
export function parseOrigin(value: string): string {
  const text = value.trim();
  const shape = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(.*)$/i.exec(text);
  if (!shape) throw new Error(`"${text}" is not an origin (scheme://host[:port])`);
  if (shape[3] !== '') throw new Error(`"${text}" has a path, query or fragment: an origin is only scheme://host[:port]`);
  if (shape[1]!.toLowerCase() !== 'http' && shape[1]!.toLowerCase() !== 'https') throw new Error(`"${text}" must be http or https`);
  if (shape[2]!.includes('@')) throw new Error(`"${text}" has a user name: an origin is only scheme://host[:port]`);
  if (shape[2]!.includes('*')) throw new Error(`"${text}": wildcards are not supported; list each origin`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not an origin (scheme://host[:port])`);
  }
  return url.origin;
}

/**
 * Parses CORS_ORIGINS: `*` alone, or a comma-separated list of origins (empty entries ignored).
 * Throws an Error naming the first bad entry.
 */
export function parseCorsOrigins(value: string): CorsOrigins {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.includes('*')) {
    if (entries.length > 1) throw new Error('"*" allows every origin: use it alone, not in a list');
    return '*';
  }
  return [...new Set(entries.map(parseOrigin))];
}

/**
 * Whether a request's `Origin` header is allowed. Exact match only, no normalising of the header:
 * browsers always send the serialised origin, which is what `parseOrigin` produces. In a list,
 * `null` (sandboxed frames, files) never matches.
 */
export function originAllowed(allowed: CorsOrigins, origin: string | undefined): boolean {
  if (allowed === '*') return true;
  return origin !== undefined && origin !== 'null' && allowed.includes(origin);
}

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
