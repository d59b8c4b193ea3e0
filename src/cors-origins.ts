/**
 * The origins CORS_ORIGINS allows, parsed once at start-up and matched against each request's
 * `Origin`. It sits beside config.ts because config validates the setting with it, and config
 * imports nothing above it; the HTTP hook that sends the headers stays in `server/cors.ts`.
 */

/** Any origin (`CORS_ORIGINS=*`), or the exact origins allowed. */
export type CorsOrigins = '*' | readonly string[];

/**
 * The entry with any `user:password@` replaced by `…@`, before it is parsed or quoted in an error:
 * configuration errors are logged, and an origin has no user part anyway (refused below).
 */
function withoutUserInfo(text: string): string {
  return text.replace(/^([^/]*:\/\/)[^/?#]*@/, '$1…@');
}

/**
 * Parses one configured origin into the form browsers send in `Origin` (lower-case host, no default
 * port): `scheme://host[:port]`, http or https, nothing else. Throws an Error saying what is wrong.
 */
export function parseOrigin(value: string): string {
  const text = withoutUserInfo(value.trim());
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
