/**
 * HTTP responses a client does not take (finding 2, HTTP half): a real node:http server hosting a
 * real ApolloServer through `createHttpHandler`, and raw sockets on 127.0.0.1 that send a request
 * and never read. The response's bytes must be freed (the connection destroyed) after the write
 * timeout, or within two looks when more than the unsent-bytes cap sits unread; a client that reads gets
 * the whole response.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { buildSchema } from 'graphql';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { DropReason } from '../../../src/server/connection-limits';
import { createHttpHandler } from '../../../src/server/http';

/** Larger than loopback's socket buffers together, so a client that does not read stalls it. */
const BIG = 24 * 1024 * 1024;

interface Host {
  url: string;
  port: number;
  dropped: DropReason[];
  logs: string[];
  close(): Promise<void>;
}

async function host(delivery: { writeTimeoutMs: number; maxUnsentBytes: number }): Promise<Host> {
  const apollo = new ApolloServer<BaseContext>({
    schema: buildSchema('type Query { big: String }'),
    rootValue: { big: () => 'x'.repeat(BIG) },
  });
  await apollo.start();
  const logs: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _e, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  );
  const dropped: DropReason[] = [];
  const server: Server = createServer(
    createHttpHandler<BaseContext>({
      apollo,
      graphqlPath: '/graphql',
      maxBodyBytes: 1024 * 1024,
      context: async () => ({}),
      readiness: async () => ({ ready: true, checks: {} }),
      metrics: { registry: new Registry() },
      log,
      delivery: { ...delivery, onDropped: (reason) => dropped.push(reason) },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    dropped,
    logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await apollo.stop();
    },
  };
}

/** Sends the big query on a raw socket that never reads (closed by the test). */
async function neverReads(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.pause();
  const body = JSON.stringify({ query: '{ big }' });
  socket.write(
    `POST /graphql HTTP/1.1\r\nHost: x\r\nX-Request-Id: never-reads\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  return socket;
}

/** Waits (bounded) until the host has dropped a connection; returns how long that took. */
async function firstDrop(h: Host, limitMs: number): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (h.dropped.length > 0) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

describe('HTTP responses a client does not read', () => {
  let hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.map((h) => h.close()));
    hosts = [];
  });

  it('drops the connection within two looks when more than HTTP_MAX_UNSENT_BYTES sit unread', async () => {
    const h = await host({ writeTimeoutMs: 60_000, maxUnsentBytes: 1024 * 1024 });
    hosts.push(h);
    const socket = await neverReads(h.port);
    const after = await firstDrop(h, 20_000);
    socket.destroy();
    expect(after).not.toBeNull();
    expect(h.dropped).toEqual(['unsent_bytes']);
    const lines = h.logs.filter((l) => l.includes('did not take its response'));
    expect(lines).toHaveLength(1);
    // The request's own logger, made only now that something logs, still names the request.
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, reason: 'unsent_bytes', requestId: 'never-reads' });
  });

  it('drops the connection after HTTP_WRITE_TIMEOUT_MS when the response is under the cap', async () => {
    const h = await host({ writeTimeoutMs: 1_000, maxUnsentBytes: 1024 * 1024 * 1024 });
    hosts.push(h);
    const socket = await neverReads(h.port);
    const after = await firstDrop(h, 20_000);
    socket.destroy();
    expect(after).not.toBeNull();
    expect(after!).toBeGreaterThanOrEqual(900);
    expect(h.dropped).toEqual(['write_timeout']);
  });

  it('delivers the whole response to a client that reads', async () => {
    const h = await host({ writeTimeoutMs: 20_000, maxUnsentBytes: 1024 * 1024 });
    hosts.push(h);
    const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ big }' }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { big: string } };
    expect(body.data.big).toHaveLength(BIG);
    expect(h.dropped).toEqual([]);
  });

  it("keeps delivering to a client that reads while the server's own event loop pauses now and then", async () => {
    // The client runs in the server's process: each pause (as a GC or a long task would make) stops
    // the server's writes and the client's reads alike, so the first look after it finds nothing taken.
    const h = await host({ writeTimeoutMs: 20_000, maxUnsentBytes: 1024 * 1024 });
    hosts.push(h);
    const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ big }' }) });
    const reader = res.body!.getReader();
    let received = 0;
    let pauses = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A pause at the first chunk, then one after each further 5 MiB.
      const due = received === 0 || Math.floor((received + value.length) / (5 * 1024 * 1024)) > Math.floor(received / (5 * 1024 * 1024));
      received += value.length;
      if (due && pauses < 4) {
        pauses++;
        const until = Date.now() + 1_300; // longer than the guard's 1 s between looks
        while (Date.now() < until);
      }
    }
    expect(pauses).toBe(4);
    expect(received).toBeGreaterThan(BIG);
    expect(h.dropped).toEqual([]);
  });
});
