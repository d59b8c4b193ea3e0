import type { IncomingMessage } from 'node:http';
import { addressKey, clientAddress } from '../../../src/server/client-address';

const req = (remoteAddress: string, forwarded?: string) =>
  ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it("is the socket's peer, whatever X-Forwarded-For claims, unless proxies are trusted", () => {
    expect(clientAddress(req('10.0.0.5', '203.0.113.1'), 0)).toBe('10.0.0.5');
    expect(clientAddress(req('::ffff:10.0.0.5'), 0)).toBe('10.0.0.5');
  });

  it('takes the entry TRUST_PROXY_HOPS places from the right, never a client-written one further left', () => {
    expect(clientAddress(req('10.0.0.1', '203.0.113.1'), 1)).toBe('203.0.113.1');
    expect(clientAddress(req('10.0.0.1', 'forged, 203.0.113.1'), 1)).toBe('203.0.113.1');
    expect(clientAddress(req('10.0.0.1', 'forged, 203.0.113.1, 10.0.0.2'), 2)).toBe('203.0.113.1');
    // Fewer entries than hops (a request that bypassed a proxy): the leftmost one there is.
    expect(clientAddress(req('10.0.0.1', '203.0.113.1'), 2)).toBe('203.0.113.1');
    expect(clientAddress(req('10.0.0.1'), 1)).toBe('10.0.0.1');
  });
});

describe('addressKey', () => {
  it('groups IPv6 addresses by /64, written in any form', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
  });
});
