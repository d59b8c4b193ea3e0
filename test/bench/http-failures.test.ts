/**
 * The HTTP benchmark's failure report: a load against a real server that answers some requests
 * 500 and resets some connections names both, so a failed bench run says what to look for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { failureKinds } from '../../bench/http-overhead';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('failureKinds', () => {
  let server: Server;
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is empty when every request was answered 2xx', async () => {
    server = createServer((_req, res) => res.end('ok'));
    const result = await autocannon({ url: await listen(server), connections: 2, duration: 0.3 });
    expect(result.requests.total).toBeGreaterThan(0);
    expect(failureKinds(result)).toBe('');
  });

  it('counts the answers by status code and the reset connections apart', async () => {
    let n = 0;
    server = createServer((req, res) => {
      n++;
      // A reset (not a plain close, which autocannon takes as the server ending a keep-alive connection).
      if (n % 5 === 0) return req.socket.resetAndDestroy();
      res.statusCode = n % 3 === 0 ? 500 : 200;
      res.end('x');
    });
    const result = await autocannon({ url: await listen(server), connections: 2, duration: 0.3 });
    const kinds = failureKinds(result);
    expect(kinds).toMatch(/^\d+ × HTTP 500, \d+ transport errors?$/);
    expect(kinds).toContain(`${result.non2xx} × HTTP 500`);
  });
});
