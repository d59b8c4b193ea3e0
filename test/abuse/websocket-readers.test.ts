/**
 * WebSocket clients that do not read, or that misbehave at the frame level: each socket costs a
 * bounded amount of memory (WS_MAX_BUFFERED_BYTES) and time (WS_WRITE_TIMEOUT_MS), unsolicited pongs
 * do not keep a stalled reader alive, and whatever happens to a socket is at most one line of the
 * gateway's own JSON log, never graphql-ws's console output. Raw `ws` clients on 127.0.0.1; every
 * loop is bounded in count and time.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { GenerationStatus, type Generation } from '../../src/model/generation';
import { CREATE, WATCH_ALL, gqlData, sleep, startGateway, waitFor, within, type TestGateway } from '../helpers/gateway';
import { expectCanaryAbsent, expectHealthy, recordSeen } from '../helpers/probes';

const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a lighthouse in a storm' };
const MAX_BUFFERED = 256 * 1024;
const WRITE_TIMEOUT_MS = 1_000;
/** A graphql-ws ping whose pong echoes ~60 KB: a non-reading client's way to make the server write. */
const BIG_PING = JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(60_000) } });

/** A raw graphql-transport-ws client that can stop reading (its TCP socket paused) while it keeps writing. */
async function rawClient(gw: TestGateway, key: string): Promise<{ socket: WebSocket; closed: Promise<number>; pauseReading(): void }> {
  const socket = new WebSocket(gw.app.wsUrl, ['graphql-transport-ws'], { autoPong: false });
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  const acked = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      recordSeen(String(data));
      if (JSON.parse(String(data)).type === 'connection_ack') resolve();
    });
    socket.once('close', (code) => reject(new Error(`closed with ${code} before the ack`)));
  });
  await new Promise<void>((resolve) => socket.once('open', () => resolve()));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  await acked;
  return {
    socket,
    closed,
    // Paused, the client's kernel buffer fills, then the server's, then (unbounded before) the gateway's heap.
    pauseReading: () => (socket as unknown as { _socket: import('node:net').Socket })._socket.pause(),
  };
}

const gauge = async (gw: TestGateway, name: string): Promise<number> => {
  const metric = gw.app.metrics.registry.getSingleMetric(name);
  return metric ? ((await metric.get()).values[0]?.value ?? 0) : Number.NaN;
};

/** Sends `frame` every `everyMs` until the socket closes or `count` were sent; resolves with how many. */
async function keepSending(socket: WebSocket, frame: () => void, count: number, everyMs: number): Promise<number> {
  let sent = 0;
  while (sent < count && socket.readyState === WebSocket.OPEN) {
    frame();
    sent++;
    if (everyMs > 0) await sleep(everyMs);
    else if (sent % 20 === 0) await sleep(1);
  }
  return sent;
}

/** Captures console and stderr output for the duration of `run`. */
async function capturingStderr(run: () => Promise<void>): Promise<string[]> {
  const written: string[] = [];
  const spies = [
    jest.spyOn(console, 'error').mockImplementation((...args) => void written.push(args.map(String).join(' '))),
    jest.spyOn(console, 'warn').mockImplementation((...args) => void written.push(args.map(String).join(' '))),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (written.push(String(chunk)), true)),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written;
}

describe('WebSocket readers that stall or misbehave', () => {
  let gw: TestGateway;
  /** Limits too high to be reached, so that what ends a socket there is the client going away. */
  let big: TestGateway;
  let key: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    [gw, big] = await Promise.all([
      startGateway({
        env: {
          WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
          WS_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS),
          // Long, so that what closes a stalled reader here is the buffer cap or the write timeout.
          WS_KEEPALIVE_MS: '60000',
        },
      }),
      startGateway({ env: { WS_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024), WS_WRITE_TIMEOUT_MS: '60000', WS_KEEPALIVE_MS: '60000' } }),
    ]);
    key = await gw.keyFor('alice');
  }, 60_000);
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await waitFor('every socket to be gone', async () => (await gauge(gw, 'gateway_websocket_connections')) === 0, 5_000);
    await expectHealthy(gw);
  });
  afterAll(async () => {
    await expectCanaryAbsent(gw, big);
    await Promise.all([gw?.stop(), big?.stop()]);
  });

  it('closes a client that stops reading while sending unsolicited pongs, within the write timeout, holding at most WS_MAX_BUFFERED_BYTES', async () => {
    const client = await rawClient(gw, key);
    sockets.push(client.socket);
    client.socket.send(JSON.stringify({ id: 'all', type: 'subscribe', payload: { query: WATCH_ALL } }));
    client.pauseReading();

    let maxBuffered = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxBuffered = Math.max(maxBuffered, await gauge(gw, 'gateway_websocket_buffered_bytes'));
        await sleep(10);
      }
    })();
    const started = Date.now();
    // Unsolicited pongs (the old keep-alive took any pong as an answer) and pings whose answers pile up.
    const pongs = keepSending(client.socket, () => client.socket.pong(randomBytes(8)), 200, 25);
    const pings = keepSending(client.socket, () => client.socket.send(BIG_PING), 600, 0);

    // Closed on the server side: the client, paused, may not notice (it reads nothing any more).
    await waitFor('the gateway to drop the stalled reader', async () => (await gauge(gw, 'gateway_websocket_connections')) === 0, 8_000, 20);
    const closedAfterMs = Date.now() - started;
    sampling = false;
    await sampler;
    await Promise.all([pongs, pings]);

    // The kernel's socket buffers fill first (several MB on loopback), then the gateway's, for at most the timeout.
    expect(closedAfterMs).toBeLessThan(WRITE_TIMEOUT_MS + 4_000);
    // One frame can be in hand when the cap is checked.
    expect(maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED + 64 * 1024);
    const lines = gw.logs.filter((l) => l.includes('the client does not read'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, closeCode: expect.any(Number), reason: expect.stringMatching(/^Slow consumer/) });
  }, 30_000);

  it('closes with 1013 (try again later) a client that reads too slowly to drain its frames within the write timeout', async () => {
    const client = await rawClient(gw, key);
    sockets.push(client.socket);
    let reason = '';
    client.socket.once('close', (_code, r) => (reason = String(r)));
    client.pauseReading();
    await keepSending(client.socket, () => client.socket.send(BIG_PING), 600, 0);
    await waitFor('the gateway to drop the stalled reader', async () => (await gauge(gw, 'gateway_websocket_connections')) === 0, 8_000, 20);
    // Reading again, the client gets what was written before the close frame, then the close frame.
    (client.socket as unknown as { _socket: import('node:net').Socket })._socket.resume();
    const code = await within('the close to reach the client', client.closed, 5_000);
    expect([1013, 1006]).toContain(code);
    if (code === 1013) expect(reason).toMatch(/^Slow consumer/);
  }, 30_000);

  it('logs one line, and writes nothing to stderr, when a client with 50 subscriptions vanishes with frames unsent', async () => {
    const bobKey = await big.keyFor('bob');
    const created = (await gqlData(big, bobKey, CREATE, { input: INPUT })).createVideoGeneration;
    const stored = (await big.app.store.getGeneration(created.id)) as Generation;
    const client = await rawClient(big, bobKey);
    for (let i = 0; i < 50; i++) client.socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: WATCH_ALL } }));
    await waitFor('50 subscriptions', async () => (await gauge(big, 'gateway_subscriptions')) === 50, 5_000);
    client.pauseReading();
    const before = big.logs.length;
    const output = await capturingStderr(async () => {
      // Fill the kernel's buffers, so the subscriptions' next frames wait in the gateway.
      await keepSending(client.socket, () => client.socket.send(BIG_PING), 300, 0);
      await sleep(300);
      for (let v = 1; v <= 5; v++) {
        big.app.events.publish({ ...stored, status: GenerationStatus.GENERATING, version: stored.version + 1000 + v, updatedAt: new Date() });
        await sleep(20);
      }
      await sleep(200);
      client.socket.terminate();
      await waitFor('the socket to be gone', async () => (await gauge(big, 'gateway_websocket_connections')) === 0, 5_000);
      await sleep(500);
    });
    expect(output).toEqual([]);
    const lines = big.logs.slice(before).filter((l) => /websocket/i.test(l));
    expect(lines.length).toBeLessThanOrEqual(1);
    expect(big.logs.slice(before).filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
  }, 30_000);

  it('logs a frame over 64 KiB once through the logger, and writes nothing to stderr', async () => {
    const client = await rawClient(gw, key);
    sockets.push(client.socket);
    const before = gw.logs.length;
    const output = await capturingStderr(async () => {
      client.socket.send('x'.repeat(70 * 1024));
      expect(await within('the close', client.closed, 5_000)).toBe(1009);
      await sleep(200);
    });
    expect(output).toEqual([]);
    const lines = gw.logs.slice(before).filter((l) => /websocket/i.test(l));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, errorCode: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
    expect(lines[0]).not.toContain('    at '); // no stack trace for a client's mistake
  });
});
