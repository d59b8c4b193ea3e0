/**
 * Runs graphql-ws's protocol (`makeServer`) over `ws` sockets, in place of graphql-ws's own
 * `useServer`, which cannot bound what one socket costs: it writes without limit to a client that
 * does not read, counts any pong (asked for or not) as the answer to its keep-alive, and reports
 * failures with `console.error`, once per subscription. Here every socket has:
 *  - a cap on unsent bytes and a write timeout: a client that does not read what it is sent is
 *    closed with 1013 (its unsent data is dropped a moment later, since a stalled reader never
 *    sees the close frame);
 *  - a keep-alive ping with a random payload: only a pong echoing it counts, so unsolicited pongs
 *    cannot keep a dead or hostile reader open;
 *  - at most one log line, through the gateway's logger, when it ends abnormally.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { handleProtocols, makeServer, type ServerOptions, type Server as ProtocolServer } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { SocketCloseCode } from './close-codes';

/** How long a socket closed for not reading keeps its unsent data before it is dropped, in ms. */
const CLOSE_GRACE_MS = 1_000;

export interface SocketLimits {
  /** Ping interval; a socket that has not echoed the previous ping's payload by the next one is terminated, in ms. */
  keepAliveMs: number;
  /** Most bytes a socket may have waiting to be written; a send past it closes the socket. */
  maxBufferedBytes: number;
  /** Longest a socket's unsent data may wait to be written out completely, in ms; then it is closed. */
  writeTimeoutMs: number;
}

/** What graphql-ws's hooks see in `ctx.extra`. */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

export interface SocketServing<E extends SocketExtra> {
  /** graphql-ws's protocol, built with `makeServer`. */
  protocol: ProtocolServer<E>;
  limits: SocketLimits;
  log: Logger;
  /** Builds the per-socket `extra` (graphql-ws's hooks add to it). */
  extra: (socket: WebSocket, request: IncomingMessage) => E;
}

/** graphql-ws's protocol with `options` on every socket `wss` accepts, as `useServer` but bounded. */
export function serveGraphQLWs<P extends Record<PropertyKey, unknown> | undefined, E extends SocketExtra>(
  options: ServerOptions<P, E>,
  wss: WebSocketServer,
  limits: SocketLimits,
  log: Logger,
): { stop: () => Promise<void> } {
  return serveSockets(wss, { protocol: makeServer<P, E>(options), limits, log, extra: (socket, request) => ({ socket, request }) as E });
}

/** Serves every socket `wss` accepts; `stop` closes them all with 1001 (Going Away), once. */
export function serveSockets<E extends SocketExtra>(wss: WebSocketServer, o: SocketServing<E>): { stop: () => Promise<void> } {
  wss.options.handleProtocols = handleProtocols;
  // An error of the listening server itself, logged once instead of graphql-ws's console line. ws
  // re-emits the HTTP server's errors here too: a failed listen is the start's error, logged by it.
  wss.on('error', (err: NodeJS.ErrnoException) => {
    if (err.syscall !== 'listen') o.log.error({ err }, 'WebSocket server error');
  });
  wss.on('connection', (socket, request) => serveSocket(socket, request, o));
  let stopping: Promise<void> | null = null;
  return {
    stop: () =>
      (stopping ??= (async () => {
        for (const socket of wss.clients) socket.close(SocketCloseCode.GoingAway, 'Going away');
        await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
      })()),
  };
}

function serveSocket<E extends SocketExtra>(socket: WebSocket, request: IncomingMessage, o: SocketServing<E>): void {
  const { keepAliveMs, maxBufferedBytes, writeTimeoutMs } = o.limits;
  /** Why this socket ended abnormally, logged once when it closes. */
  let incident: { level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> } | null = null;
  const note = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}) => {
    incident ??= { level, msg, fields };
  };
  /** Sends handed to ws that have not been written out yet. */
  let unsentFrames = 0;
  let stall: NodeJS.Timeout | null = null;
  let grace: NodeJS.Timeout | null = null;

  const closeSlow = (reason: string) => {
    if (grace) return;
    note('warn', 'WebSocket closed: the client does not read what it is sent', { reason, bufferedBytes: socket.bufferedAmount });
    socket.close(SocketCloseCode.TryAgainLater, reason);
    grace = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
  };

  /** Writes through `write` unless that would pass the cap; watches that what is buffered drains in time. */
  const guardedWrite = (bytes: number, write: (done: () => void) => void): boolean => {
    if (socket.readyState !== socket.OPEN || grace) return false;
    if (socket.bufferedAmount + bytes > maxBufferedBytes) {
      closeSlow(`Slow consumer: more than ${maxBufferedBytes} bytes unsent`);
      return false;
    }
    unsentFrames++;
    write(() => {
      unsentFrames--;
      if (stall && socket.bufferedAmount === 0) {
        clearTimeout(stall);
        stall = null;
      }
    });
    if (!stall && socket.bufferedAmount > 0) {
      stall = setTimeout(() => {
        stall = null;
        if (socket.bufferedAmount > 0) closeSlow(`Slow consumer: unsent data not written within ${writeTimeoutMs} ms`);
      }, writeTimeoutMs);
    }
    return true;
  };

  // Client pings are answered here rather than by ws (autoPong is off), so the answers count against the cap.
  socket.on('ping', (data) => void guardedWrite(data.length + 2, (done) => socket.pong(data, undefined, done)));

  let awaitedPong: Buffer | null = null;
  socket.on('pong', (data) => {
    if (awaitedPong?.equals(data)) awaitedPong = null;
  });
  const keepAlive = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (awaitedPong) {
      note('warn', 'WebSocket terminated: keep-alive ping not answered');
      socket.terminate();
      return;
    }
    awaitedPong = randomBytes(16);
    guardedWrite(awaitedPong.length + 2, (done) => socket.ping(awaitedPong!, undefined, done));
  }, keepAliveMs);

  // ws reports a client's protocol violation (an oversized frame, bad UTF-8, a bad opcode) here and
  // closes the socket itself with the matching code (1009, 1007, 1002).
  socket.on('error', (err: Error & { code?: string }) => {
    note('warn', 'WebSocket closed: protocol error from the client', { error: err.message, errorCode: err.code });
    if (socket.readyState === socket.OPEN) socket.close(SocketCloseCode.InternalServerError, 'Internal server error');
  });

  const closed = o.protocol.opened(
    {
      protocol: socket.protocol,
      // Resolves once written out, so each subscription has at most one frame in flight, and never
      // rejects: a frame that cannot be written belongs to a socket that is going away, which is
      // reported once, when it closes, instead of failing each of its subscriptions.
      send: (data) =>
        new Promise<void>((resolve) => {
          if (!guardedWrite(Buffer.byteLength(data), (done) => socket.send(data, () => (done(), resolve())))) resolve();
        }),
      close: (code, reason) => socket.close(code, reason),
      onMessage: (handle) =>
        socket.on('message', (data) => {
          handle(String(data)).catch((err: unknown) => {
            note('error', 'unexpected error while handling a WebSocket message', { err });
            socket.close(SocketCloseCode.InternalServerError, 'Internal server error');
          });
        }),
    },
    o.extra(socket, request),
  );

  socket.once('close', (code, reason) => {
    clearInterval(keepAlive);
    if (stall) clearTimeout(stall);
    if (grace) clearTimeout(grace);
    if (!incident && unsentFrames > 0) note('info', 'WebSocket closed with frames unsent');
    if (incident) {
      o.log[incident.level]({ ...incident.fields, closeCode: code, closeReason: String(reason), unsentFrames }, incident.msg);
    }
    closed(code, String(reason)).catch((err: unknown) => o.log.error({ err }, 'unexpected error while closing a WebSocket'));
  });
}
