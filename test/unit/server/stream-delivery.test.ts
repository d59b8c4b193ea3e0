/**
 * A subscription stream over HTTP never finishes by design, so the whole-response write timeout
 * cannot guard it. `guardStreamDelivery` drops its connection once bytes have waited unsent, with
 * no progress, for the write timeout; a client that keeps reading keeps its stream however long it
 * lasts. A real node:http server writing an endless stream, and raw sockets on 127.0.0.1.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { guardStreamDelivery, type DropReason } from '../../../src/server/connection-limits';

const CHUNK = 'x'.repeat(256 * 1024);

/** Looks every 25 ms until `what` holds, at most `ms`. */
async function waitFor(what: string, holds: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !holds(); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

async function endlessStream(limits: { writeTimeoutMs: number; maxUnsentBytes: number }) {
  const dropped: DropReason[] = [];
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    guardStreamDelivery(res, limits, (reason) => dropped.push(reason));
    const timer = setInterval(() => res.write(CHUNK), 20);
    res.once('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    dropped,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function request(port: number, read: boolean): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  if (read) socket.on('data', () => undefined);
  else socket.pause();
  socket.write('GET /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n');
  return socket;
}

describe('guardStreamDelivery', () => {
  it('drops the connection of a client that stops reading, once its unsent bytes made no progress for the write timeout', async () => {
    const host = await endlessStream({ writeTimeoutMs: 300, maxUnsentBytes: 64 * 1024 * 1024 });
    const socket = await request(host.port, false);
    try {
      // A paused client socket never sees the reset; the server's side says it was dropped.
      await waitFor('the stalled stream to be dropped', () => host.dropped.length > 0, 10_000);
      expect(host.dropped).toEqual(['write_timeout']);
    } finally {
      socket.destroy();
      await host.close();
    }
  });

  it('drops, once two looks in a row find it stalled, a client holding more than the unsent-bytes cap', async () => {
    const host = await endlessStream({ writeTimeoutMs: 60_000, maxUnsentBytes: 1024 * 1024 });
    const socket = await request(host.port, false);
    try {
      await waitFor('the stalled stream to be dropped', () => host.dropped.length > 0, 10_000);
      expect(host.dropped).toEqual(['unsent_bytes']);
    } finally {
      socket.destroy();
      await host.close();
    }
  });

  it('keeps a stream whose client reads, for longer than the write timeout', async () => {
    const host = await endlessStream({ writeTimeoutMs: 200, maxUnsentBytes: 1024 * 1024 });
    const socket = await request(host.port, true);
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      expect(socket.destroyed).toBe(false);
      expect(host.dropped).toEqual([]);
    } finally {
      socket.destroy();
      await host.close();
    }
  });
});
