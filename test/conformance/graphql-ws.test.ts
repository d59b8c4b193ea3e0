/**
 * graphql-ws protocol (`graphql-transport-ws`) cases with raw `ws` clients, asserting the close codes
 * a client sees (graphql-ws PROTOCOL.md; reliability-security.md §4.3). The gateway runs with short
 * init and keep-alive timings so the timeouts are observed quickly.
 */
import { CloseCode } from 'graphql-ws';
import WebSocket from 'ws';
import { WATCH_ALL, startGateway, within, type TestGateway } from '../helpers/gateway';
import { expectCanaryAbsent, expectHealthy, recordSeen } from '../helpers/probes';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const INIT_TIMEOUT_MS = 300;
const KEEPALIVE_MS = 250;

/** A raw graphql-transport-ws socket that queues what it receives and reports how it closed. */
class RawSocket {
  readonly socket: WebSocket;
  readonly messages: Array<{ type: string; id?: string; payload?: unknown }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  /** `protocols: []` asks for no subprotocol at all. */
  constructor(url: string, options: { autoPong?: boolean; protocols?: string[] } = {}) {
    this.socket = new WebSocket(url, options.protocols ?? ['graphql-transport-ws'], { autoPong: options.autoPong ?? true });
    this.socket.on('error', () => {});
    this.socket.on('message', (data) => {
      recordSeen(String(data));
      this.messages.push(JSON.parse(String(data)));
      this.waiters.splice(0).forEach((w) => w());
    });
    this.closed = new Promise((resolve) =>
      this.socket.once('close', (code, reason) => {
        recordSeen(reason.toString());
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  opened(): Promise<void> {
    return within('the socket to open', new Promise((r) => this.socket.once('open', () => r())), 5_000);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves with the first queued message of `type`, waiting up to 5 s for it. */
  async next(type: string): Promise<{ type: string; id?: string; payload?: unknown }> {
    return within(
      `a ${type} message`,
      (async () => {
        for (;;) {
          const i = this.messages.findIndex((m) => m.type === type);
          if (i >= 0) return this.messages.splice(i, 1)[0]!;
          await new Promise<void>((r) => this.waiters.push(r));
        }
      })(),
      5_000,
    );
  }

  closeCode(): Promise<number> {
    return within('the socket to close', this.closed, 5_000).then((c) => c.code);
  }
}

describe('graphql-ws protocol', () => {
  let gw: TestGateway;
  let key: string;
  const sockets: RawSocket[] = [];

  const open = async (options?: { autoPong?: boolean; protocols?: string[] }) => {
    const s = new RawSocket(gw.app.wsUrl, options);
    sockets.push(s);
    await s.opened();
    return s;
  };
  const acknowledged = async (options?: { autoPong?: boolean }) => {
    const s = await open(options);
    s.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
    await s.next('connection_ack');
    return s;
  };

  beforeAll(async () => {
    gw = await startGateway({
      env: { WS_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS), WS_KEEPALIVE_MS: String(KEEPALIVE_MS) },
    });
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.socket.terminate();
    await expectHealthy(gw);
  });
  afterAll(async () => {
    await expectCanaryAbsent(gw);
    await gw?.stop();
  });

  it('should acknowledge a valid connection_init', async () => {
    const s = await acknowledged();
    expect(s.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('should close a socket that sends no connection_init within the init timeout with 4408', async () => {
    const s = await open();
    const started = Date.now();
    const { code, reason } = await within('the init timeout', s.closed, 5_000);
    expect(code).toBe(CloseCode.ConnectionInitialisationTimeout);
    expect(code).toBe(4408);
    expect(reason).toMatch(/timeout/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
  });

  it('should close a second connection_init with 4429', async () => {
    const s = await acknowledged();
    s.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
    expect(await s.closeCode()).toBe(4429);
  });

  it('should close a subscribe sent before the connection is acknowledged with 4401, without running it', async () => {
    const s = await open();
    s.send({ id: '1', type: 'subscribe', payload: { query: WATCH_ALL } });
    expect(await s.closeCode()).toBe(4401);
    expect(s.messages.filter((m) => m.type === 'next')).toEqual([]);
  });

  it.each([
    ['text that is not JSON', 'not json {'],
    ['an unknown message type', { type: 'hello' }],
    ['a subscribe without an id', { type: 'subscribe', payload: { query: WATCH_ALL } }],
    ['a subscribe without a query', { id: '1', type: 'subscribe', payload: {} }],
    ['a JSON array', [{ type: 'ping' }]],
  ])('should close %s with 4400', async (_name, frame) => {
    const s = await acknowledged();
    s.send(frame);
    expect(await s.closeCode()).toBe(4400);
  });

  it('should close a subscribe reusing the id of a running subscription with 4409', async () => {
    const s = await acknowledged();
    s.send({ id: 'same', type: 'subscribe', payload: { query: WATCH_ALL } });
    // The first is running once the gateway counts it.
    await within(
      'the first subscription',
      (async () => {
        while (((await gw.app.metrics.subscriptions.get()).values[0]?.value ?? 0) < 1) await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
    );
    s.send({ id: 'same', type: 'subscribe', payload: { query: WATCH_ALL } });
    expect(await s.closeCode()).toBe(4409);
  });

  it('should close a socket that sends a frame over 64 KiB with 1009', async () => {
    const s = await acknowledged();
    s.send({ id: '1', type: 'subscribe', payload: { query: `subscription { videoGenerationsUpdated { id } } # ${'x'.repeat(70 * 1024)}` } });
    expect(await s.closeCode()).toBe(1009);
  });

  it('should close a socket without a subprotocol with 4406', async () => {
    const s = await open({ protocols: [] });
    expect(await s.closeCode()).toBe(4406);
  });

  it('should not agree to any other subprotocol, such as the legacy graphql-ws', async () => {
    for (const protocol of ['graphql-ws', 'nope']) {
      // The server picks no subprotocol, so the client itself fails the handshake.
      const s = new RawSocket(gw.app.wsUrl, { protocols: [protocol] });
      sockets.push(s);
      let opened = false;
      s.socket.once('open', () => (opened = true));
      expect(await s.closeCode()).toBe(1006);
      expect(opened).toBe(false);
    }
  });

  it('should answer a ping with a pong carrying the same payload', async () => {
    const s = await acknowledged();
    s.send({ type: 'ping', payload: { n: 1 } });
    expect(await s.next('pong')).toEqual({ type: 'pong', payload: { n: 1 } });
  });

  it('should end a client that stops answering keep-alive pings, and keep one that answers', async () => {
    const silent = await acknowledged({ autoPong: false });
    const answering = await acknowledged();
    let pings = 0;
    silent.socket.on('ping', () => pings++);
    const started = Date.now();
    // The server pings every KEEPALIVE_MS and terminates a socket that has not answered by the next
    // tick: the client sees an abnormal closure, not a close frame.
    expect(await silent.closeCode()).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(KEEPALIVE_MS);
    // The answering client has lived through the same pings.
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    answering.send({ type: 'ping' });
    await answering.next('pong');
  });

  it('should end a client whose pongs do not echo its own keep-alive ping (unsolicited, or another payload)', async () => {
    const s = await acknowledged({ autoPong: false });
    s.socket.on('ping', () => s.socket.pong(Buffer.from('not the ping payload')));
    const started = Date.now();
    let unsolicited = 0;
    const pongs = setInterval(() => {
      if (s.socket.readyState === WebSocket.OPEN && unsolicited++ < 200) s.socket.pong();
    }, 25);
    try {
      expect(await s.closeCode()).toBe(1006);
    } finally {
      clearInterval(pongs);
    }
    expect(unsolicited).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(KEEPALIVE_MS);
  });
});
