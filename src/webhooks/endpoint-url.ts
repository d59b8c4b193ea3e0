/**
 * Which URLs the gateway may call with webhooks. A webhook is a request the gateway itself sends, so a
 * URL aimed at loopback, a private network or a cloud metadata address would let an owner probe the
 * gateway's own network (SSRF). Literal addresses and internal-only names are refused as for media
 * URLs (media-url.ts); hostnames are also resolved, at registration and again before every delivery,
 * so a name that resolves (or later re-resolves: DNS rebinding) to such an address is refused too.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { badInput } from '../errors';
import { isPrivateHost } from '../generations/media-url';

export interface EndpointUrlPolicy {
  /** Accept plain http URLs (tests, private networks). Default false: https only. */
  allowHttp: boolean;
  /** Accept hosts that are or resolve to loopback, private, link-local or metadata addresses. Default false. */
  allowPrivate: boolean;
}

/** Resolves a hostname to every address it has (dns.lookup with `all`), injectable for tests. */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

export const resolveWithSystemDns: ResolveHost = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** Longest URL an endpoint may have, in characters. */
export const MAX_ENDPOINT_URL_LENGTH = 2_048;

/** How long a hostname's resolution may take before the URL is refused, in ms. */
const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * The URL, normalised, when the policy allows calling it; otherwise BAD_USER_INPUT naming `field`.
 * Resolves the hostname (unless private hosts are allowed): a name that does not resolve is refused.
 */
export async function checkEndpointUrl(field: string, value: string, policy: EndpointUrlPolicy, resolve: ResolveHost): Promise<URL> {
  const url = parseEndpointUrl(field, value, policy);
  if (!policy.allowPrivate) await resolvePublicAddresses(field, url.hostname, resolve);
  return url;
}

/** The checks that need no network: length, scheme, credentials, literal private addresses and internal names. */
export function parseEndpointUrl(field: string, value: string, policy: EndpointUrlPolicy): URL {
  if (value.length > MAX_ENDPOINT_URL_LENGTH) throw badInput(field, `${field} must be at most ${MAX_ENDPOINT_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(field, `${field} must be an absolute https URL`);
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw badInput(field, policy.allowHttp ? `${field} must be an http(s) URL` : `${field} must be an https URL`);
  }
  if (url.username !== '' || url.password !== '') throw badInput(field, `${field} must not carry credentials (user:password@)`);
  if (url.hash !== '') throw badInput(field, `${field} must not have a #fragment`);
  if (!policy.allowPrivate && isPrivateHost(url.hostname)) throw privateHost(field);
  return url;
}

/**
 * The addresses `hostname` resolves to, when every one is public (a literal address is its own
 * answer). BAD_USER_INPUT naming `field` when any is private or the name does not resolve in time.
 * The sender connects to these very addresses (its connections look names up through this), so the
 * name is not resolved a second time in between.
 */
export async function resolvePublicAddresses(field: string, hostname: string, resolve: ResolveHost): Promise<readonly string[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return [host];
  let addresses: readonly string[];
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      resolve(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), RESOLVE_TIMEOUT_MS);
      }),
    ]);
  } catch {
    throw badInput(field, `${field}: the host ${host} could not be resolved`);
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0) throw badInput(field, `${field}: the host ${host} could not be resolved`);
  // One private answer is enough: a client picks any of them.
  if (addresses.some((address) => isPrivateHost(address))) throw privateHost(field);
  return addresses;
}

function privateHost(field: string) {
  return badInput(
    field,
    `${field} must point at a public host: loopback, private, link-local, metadata and internal addresses are refused (also when a name resolves to one)`,
  );
}
