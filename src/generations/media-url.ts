/**
 * Refuses media URLs that point the upstream's fetcher (or anything that later follows the stored
 * URL) at a network it must not reach: loopback, private, link-local and cloud metadata addresses,
 * and URLs carrying credentials. The upstream fetches these URLs itself, so hostnames are not
 * resolved here (the answer could differ by the time it fetches); literal IP addresses in every
 * spelling URL parsing normalises (`0x7f000001`, `2130706433`, `0177.0.0.1`, `[::ffff:127.0.0.1]`)
 * and names that can only be internal (`localhost`, `*.internal`, single-label names) are refused.
 */
import { BlockList, isIP } from 'node:net';
import { badInput } from '../errors';
import type { GenerationInput } from '../model/generation';

export interface MediaUrlPolicy {
  /** Accept loopback, private and link-local targets (tests, private deployments). Default: false. */
  allowPrivate: boolean;
}

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Names that resolve only inside a host or a private network. */
const INTERNAL_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/i;

/**
 * Throws BAD_USER_INPUT naming the field for each media URL of `input` (every field whose name ends
 * in `Url` or `Urls`) that carries credentials or, unless the policy allows it, targets a private host.
 * Data URIs are not fetched and pass.
 */
export function checkMediaUrls(input: GenerationInput, policy: MediaUrlPolicy): void {
  visit('input', input, false, policy);
}

/** A URL input by name: `imageUrl`, `referenceImageUrls`, and the vendor's own `image_url` inside option objects. */
const URL_KEY = /(Urls?|_urls?)$/;

/** Walks the whole input, `options` included (model options may nest media URLs in objects and lists). */
function visit(field: string, value: unknown, isUrl: boolean, policy: MediaUrlPolicy): void {
  if (typeof value === 'string') {
    if (isUrl) checkMediaUrl(field, value, policy);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => visit(`${field}.${i}`, item, isUrl, policy));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) visit(`${field}.${key}`, item, URL_KEY.test(key), policy);
  }
}

export function checkMediaUrl(field: string, value: string, policy: MediaUrlPolicy): void {
  if (value.startsWith('data:')) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(field, `${field} must be an http(s) URL or a base64 data URI`);
  }
  if (url.username !== '' || url.password !== '') {
    throw badInput(field, `${field} must not carry credentials (user:password@)`);
  }
  if (policy.allowPrivate) return;
  if (isPrivateHost(url.hostname)) {
    throw badInput(field, `${field} must point at a public host: loopback, private, link-local and internal addresses are refused`);
  }
}

/** Whether a URL's (already normalised) hostname is a private address or an internal-only name. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const family = isIP(host);
  if (family === 4) return BLOCKED.check(host, 'ipv4');
  if (family === 6) {
    const mapped = embeddedIpv4(host);
    return mapped !== null ? BLOCKED.check(mapped, 'ipv4') : BLOCKED.check(host, 'ipv6');
  }
  return !host.includes('.') || INTERNAL_NAME.test(host);
}

/** The IPv4 address inside an IPv4-mapped or -compatible IPv6 address (`::ffff:7f00:1`), or null. */
function embeddedIpv4(host: string): string | null {
  const match = /^::(?:ffff:)?(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(host);
  if (!match) return null;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
