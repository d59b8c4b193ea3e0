/**
 * The wait a streamed video body makes whenever the client is slower than the simulator: a 200 MB body
 * waits thousands of times on one response, so a wait must leave no listener behind (it left its unused
 * `close` listener each time, which Node reported as a likely leak during the media bench).
 */
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainedOrClosed } from '../../../src/simulator/video';

describe('drainedOrClosed', () => {
  it('ends each wait on drain or close and leaves no listener behind', async () => {
    let response!: ServerResponse;
    const server = createServer((_req, res) => {
      response = res;
      res.writeHead(200);
      res.write('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    client.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => client.once('response', () => resolve()));
      const before = { drain: response.listenerCount('drain'), close: response.listenerCount('close') };
      for (let i = 0; i < 20; i++) {
        const waited = drainedOrClosed(response);
        response.emit('drain');
        await waited;
      }
      expect({ drain: response.listenerCount('drain'), close: response.listenerCount('close') }).toEqual(before);
      const closed = drainedOrClosed(response);
      client.destroy();
      await closed;
      expect(response.listenerCount('drain')).toBe(before.drain);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
