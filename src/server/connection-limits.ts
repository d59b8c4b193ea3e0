/**
 * What one client connection may cost the server: how long it may take to send a request, how
 * many connections are served at once (HTTP and WebSocket share the sockets), and how long and how
 * much a response may wait on a client that does not read.
 *
 * Node's defaults let a client hold a socket for 60 s before sending headers and 300 s for a body,
 * accept connections until the process runs out of file descriptors, and keep a response's bytes
 * for as long as its client does not read them: a few slow or stalled clients then leave real ones
 * unanswered, or fill the heap.
 */
import { readFileSync } from 'node:fs';
import type { Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Options for `http.createServer`: the timeouts, checked often enough to matter. */
export function serverOptions(t: ServerTimeouts): ServerOptions {
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    // Node looks for expired header and request timers only this often (default every 30 s).
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(t.headersTimeoutMs / 4))),
  };
}

/** File descriptors kept for the store, Redis, the upstream, the simulator and files. */
const RESERVED_DESCRIPTORS = 256;
/** Connections answered 503 above the cap, as a share of it, before Node drops new ones unanswered. */
const SHED_SHARE = 0.1;
/** How long a shed connection may take to send its request before it is closed, in ms. */
const SHED_SOCKET_TIMEOUT_MS = 2_000;

/**
 * The connection cap when MAX_CONNECTIONS is unset: what the open-file limit leaves once the
 * reserved descriptors and the shed connections are counted, or 10 000 where it cannot be read.
 */
export function defaultMaxConnections(limitsFile = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isFinite(soft) && soft > RESERVED_DESCRIPTORS) return Math.max(16, Math.floor((soft - RESERVED_DESCRIPTORS) / (1 + SHED_SHARE)));
  } catch {
    // Not Linux: fall through.
  }
  return 10_000;
}

const SHED = Symbol('shed');
type MaybeShed = Socket & { [SHED]?: true };

export interface ConnectionCap {
  readonly maxConnections: number;
  /** Connections open now. */
  readonly open: number;
  /** True for a connection accepted above the cap: answer it 503 (health checks excepted) and close it. */
  isShed(socket: Socket | null | undefined): boolean;
}

/**
 * Counts the server's sockets. Above `maxConnections` a new socket is marked to be shed (answered
 * 503 with Retry-After and closed); above that plus a tenth, Node refuses it at accept. Logs once
 * when shedding starts and once when it stops, not once per connection.
 */
export function capConnections(server: Server, o: { maxConnections: number; log: Logger; onShed?: () => void }): ConnectionCap {
  let open = 0;
  let shedding = false;
  server.maxConnections = o.maxConnections + Math.max(16, Math.ceil(o.maxConnections * SHED_SHARE));
  server.on('connection', (socket: MaybeShed) => {
    open++;
    socket.once('close', () => {
      open--;
      if (shedding && open <= o.maxConnections * 0.9) {
        shedding = false;
        o.log.info({ open, maxConnections: o.maxConnections }, 'connections below the cap again; no longer shedding');
      }
    });
    if (open <= o.maxConnections) return;
    socket[SHED] = true;
    socket.setTimeout(SHED_SOCKET_TIMEOUT_MS, () => socket.destroy());
    o.onShed?.();
    if (!shedding) {
      shedding = true;
      o.log.warn({ open, maxConnections: o.maxConnections }, 'connection cap reached (MAX_CONNECTIONS): new connections are answered 503');
    }
  });
  return {
    maxConnections: o.maxConnections,
    get open() {
      return open;
    },
    isShed: (socket) => Boolean(socket && (socket as MaybeShed)[SHED]),
  };
}

export interface DeliveryLimits {
  /** How long a response may take to reach the client, in ms. */
  writeTimeoutMs: number;
  /** Unsent response bytes a connection may hold while its client takes none. */
  maxUnsentBytes: number;
}

export type DropReason = 'write_timeout' | 'unsent_bytes';

/**
 * Looks that must find a client taking nothing, one after the other, before more than
 * `maxUnsentBytes` unsent drops it. One is not enough: while our own event loop pauses (a GC, a
 * long task) no write can follow the client's reads, so a client that read everything the kernel
 * held looks stalled to the first look after the pause.
 */
const STALLED_LOOKS = 2;

/** How often a guard looks at a connection, in ms: four looks per write timeout, between 25 ms and 1 s. */
function lookEveryMs(writeTimeoutMs: number): number {
  return Math.min(1_000, Math.max(25, Math.floor(writeTimeoutMs / 4)));
}

/**
 * Watches a response already handed to Node until it is flushed: a response still unsent after
 * `writeTimeoutMs`, or holding more than `maxUnsentBytes` while its client took nothing over the
 * last looks (STALLED_LOOKS), destroys its connection, which frees the bytes. `onDropped` is called
 * once per drop.
 */
export function guardDelivery(res: ServerResponse, o: DeliveryLimits, onDropped: (reason: DropReason, unsentBytes: number) => void): void {
  const socket = res.socket;
  if (!socket || res.writableFinished || socket.destroyed) return;
  const started = Date.now();
  let last = progress(socket);
  let stalledLooks = 0;
  const timer = setInterval(() => {
    // An upper bound: a chunk handed to libuv counts whole until the kernel has taken all of it.
    const unsent = res.writableLength; // the socket's own buffer included
    const now = progress(socket);
    stalledLooks = now === last ? stalledLooks + 1 : 0;
    last = now;
    const reason: DropReason | null =
      Date.now() - started >= o.writeTimeoutMs ? 'write_timeout' : unsent > o.maxUnsentBytes && stalledLooks >= STALLED_LOOKS ? 'unsent_bytes' : null;
    if (!reason) return;
    stop();
    socket.destroy();
    onDropped(reason, unsent);
  }, lookEveryMs(o.writeTimeoutMs));
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    res.off('finish', stop).off('close', stop);
  };
  res.once('finish', stop).once('close', stop);
}

/**
 * Watches a response that never finishes by design (a subscription stream): its connection is
 * destroyed once bytes have waited unsent, with no progress, for `writeTimeoutMs`, or once more
 * than `maxUnsentBytes` wait while its client took nothing over the last looks (STALLED_LOOKS). A
 * client that stops reading then costs a bounded buffer for a bounded time, as over WebSocket.
 */
export function guardStreamDelivery(res: ServerResponse, o: DeliveryLimits, onDropped: (reason: DropReason, unsentBytes: number) => void): void {
  const socket = res.socket;
  if (!socket || socket.destroyed) return;
  // Not `progress()`: new events change the write queue too, so it would hide a client that takes nothing.
  let lastTaken = takenByKernel(socket);
  let stalledSince: number | null = null;
  let stalledLooks = 0;
  const timer = setInterval(() => {
    const unsent = res.writableLength; // the socket's own buffer included
    const taken = takenByKernel(socket);
    const stalled = unsent > 0 && taken === lastTaken;
    lastTaken = taken;
    if (!stalled) {
      stalledSince = null;
      stalledLooks = 0;
      return;
    }
    stalledSince ??= Date.now();
    stalledLooks++;
    const reason: DropReason | null =
      Date.now() - stalledSince >= o.writeTimeoutMs
        ? 'write_timeout'
        : unsent > o.maxUnsentBytes && stalledLooks >= STALLED_LOOKS
          ? 'unsent_bytes'
          : null;
    if (!reason) return;
    clearInterval(timer);
    socket.destroy();
    onDropped(reason, unsent);
  }, lookEveryMs(o.writeTimeoutMs));
  timer.unref();
  res.once('close', () => clearInterval(timer));
}

/** Bytes the kernel has taken from this socket: handed to libuv, less what still waits in its write queue. */
function takenByKernel(socket: Socket): number {
  const queued = (socket as Socket & { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0;
  return socket.bytesWritten - socket.writableLength - queued;
}

/**
 * Changes whenever the kernel takes bytes from this socket. Node's public counters do not move
 * then (`bytesWritten` counts bytes once handed to libuv), so this reads libuv's own write queue,
 * falling back to Node's buffer where the handle does not say.
 */
function progress(socket: Socket): string {
  const queued = (socket as Socket & { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize;
  return `${socket.writableLength}:${queued ?? ''}`;
}
