/**
 * Which client a request comes from, for per-address limits.
 *
 * The socket's peer unless the operator says how many proxies stand in front (TRUST_PROXY_HOPS):
 * `X-Forwarded-For` is written by whoever sends the request, so only the entries our own proxies
 * appended (counted from the right) can be believed. IPv6 clients are grouped by /64, the block a
 * single subscriber usually gets, so one host cannot step around the limit by rotating addresses.
 */
import { isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustProxyHops: number): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops > 0) {
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The last proxy's own peer is the socket; each trusted proxy appended the address it saw.
    const believed = hops[hops.length - trustProxyHops] ?? hops[0];
    if (believed) address = believed;
  }
  return addressKey(address);
}

/** The address as a limiter key: IPv4-mapped IPv6 as plain IPv4, other IPv6 cut to its /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
