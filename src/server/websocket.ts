/**
 * The graphql-ws adapter. Apollo's protections do not reach this path, so it applies its own:
 * authentication in `onConnect` (a bad key closes with 4403), the same document limits as HTTP,
 * subscriptions only, and the same error masking.
 */
import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, GatewayError } from '../errors';
import type { GraphQLContext } from '../graphql/context';
import type { DocumentProtectionOptions } from '../graphql/document-limits';
import { toGraphQLError } from '../graphql/errors';
import { withDocument, type TrustedDocuments } from '../graphql/trusted-documents';
import { SocketCloseCode } from './close-codes';
import { closeWhenExpired } from './credential-expiry';
import { closeWhenRevoked } from './credential-recheck';
import type { Metrics } from './metrics';
import { DATABASE_OUTAGE_REASON, isDatabaseOutage, prepareSubscription } from './subscription-operation';
import { serveGraphQLWs, type SocketExtra } from './ws-connection';

/** Largest WebSocket frame accepted, in bytes; a larger one closes the socket with 1009. */
export const WS_MAX_PAYLOAD_BYTES = 64 * 1024;

export interface WebSocketOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  /** Same path as HTTP GraphQL; ws only takes upgrade requests. */
  path: string;
  /**
   * The owner of the credential in `connectionParams`, or null to refuse the connection. With an
   * `expiresAt`, the socket is closed with 4403 when it passes.
   */
  authenticate: (connectionParams: Readonly<Record<string, unknown>> | undefined) => Promise<{ owner: string; expiresAt: Date | null } | null>;
  /** Checked before each subscribe (per-owner rate limits); a thrown GatewayError refuses it. Default: none. */
  beforeOperation?: (owner: string) => Promise<void>;
  /**
   * Takes one of the owner's open-subscription slots (shared with SSE and multipart HTTP) for a
   * subscription about to run, returning its release; a thrown GatewayError refuses it. Default: no cap.
   */
  admitSubscription?: (owner: string) => () => void;
  context: (owner: string, requestId: string, log: () => Logger) => GraphQLContext;
  introspection: boolean;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: Metrics;
  log: Logger;
  /** Ping interval; a client that misses a pong for this long is dropped, in ms. Default 12 000. */
  keepAliveMs?: number;
  /** How long a socket may stay without `connection_init` before it is closed with 4408, in ms. Default 3 000. */
  connectionInitTimeoutMs?: number;
  /**
   * How often an open socket's credential is checked again, so a revoked key's sockets close with
   * 4403, in ms. Default 30 000; 0 never checks again.
   */
  credentialRecheckMs?: number;
  /** The same request limits and document cache budget as HTTP. Default: their safe defaults. */
  documentProtection?: DocumentProtectionOptions;
  /** Decides each subscription's document (by id, or only trusted ones) before it is parsed. Absent: as sent. */
  trustedDocuments?: TrustedDocuments;
  /** False refuses the upgrade with 503 (a connection over the cap). Default: all admitted. */
  admitUpgrade?: (request: IncomingMessage) => boolean;
  /** Spends the address's budget for a failed authentication; a thrown GatewayError closes with 4429. */
  onUnauthenticated?: (request: IncomingMessage) => Promise<void>;
  /** Most bytes one socket may have waiting to be written before it is closed with 1013. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Longest a socket's unsent data may wait to be written out before it is closed with 1013, in ms. Default 10 000. */
  writeTimeoutMs?: number;
}

interface ConnectionExtra extends SocketExtra {
  owner?: string;
  connectionId?: string;
}

let connectionSeq = 0;

export function attachWebSocketServer(o: WebSocketOptions): { stop: () => Promise<void> } {
  const wss = new WebSocketServer({
    server: o.httpServer,
    path: o.path,
    maxPayload: WS_MAX_PAYLOAD_BYTES,
    // Compression lets small frames inflate into huge messages, and costs memory per socket.
    perMessageDeflate: false,
    ...(o.admitUpgrade && {
      verifyClient: (
        info: { req: IncomingMessage },
        done: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void,
      ) =>
        o.admitUpgrade!(info.req) ? done(true) : done(false, 503, 'Server busy: too many open connections; retry shortly', { 'retry-after': '1' }),
    }),
    // Pings are answered in ws-connection.ts, where the answers count against the socket's buffer cap.
    autoPong: false,
  });
  wss.on('connection', (socket) => {
    o.metrics.wsConnections.inc();
    socket.once('close', () => o.metrics.wsConnections.dec());
  });
  o.metrics.watchWebSockets(wss);
  const active = new Map<string, number>();
  /** Each connection's open-subscription slots, by operation id. */
  const slots = new Map<string, Map<string, () => void>>();
  const releaseSlot = (connectionId: string | undefined, id: string) => {
    const held = slots.get(connectionId ?? '');
    held?.get(id)?.();
    held?.delete(id);
  };
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => o.formatError(e.toJSON(), e));

  const cleanup = serveGraphQLWs<Record<string, unknown>, ConnectionExtra>(
    {
      connectionInitWaitTimeout: o.connectionInitTimeoutMs ?? 3_000,
      onConnect: async (ctx) => {
        let principal: Awaited<ReturnType<typeof o.authenticate>>;
        try {
          principal = await o.authenticate(ctx.connectionParams);
        } catch (err) {
          // graphql-ws clients never retry 4500; 1013 (try again later) they do.
          if (isDatabaseOutage(err)) {
            closeTryAgainLater(ctx.extra.socket);
            return false;
          }
          // Logged once, here, and masked; left to graphql-ws it would go to the console unredacted.
          o.log.error({ err }, 'unexpected error while authenticating a WebSocket connection');
          ctx.extra.socket.close(SocketCloseCode.InternalServerError, 'Internal server error');
          return false;
        }
        if (!principal) {
          try {
            await o.onUnauthenticated?.(ctx.extra.request);
          } catch (err) {
            if (err instanceof GatewayError) ctx.extra.socket.close(SocketCloseCode.TooManyRequests, err.message.slice(0, 120));
            else o.log.error({ err }, 'unexpected error while counting an unauthenticated WebSocket connection');
          }
          return false;
        }
        const { owner } = principal;
        if (principal.expiresAt) closeWhenExpired(ctx.extra.socket, principal.expiresAt);
        const recheckMs = o.credentialRecheckMs ?? 30_000;
        if (recheckMs > 0) {
          const params = ctx.connectionParams;
          closeWhenRevoked(ctx.extra.socket, {
            owner,
            everyMs: recheckMs,
            ownerNow: async () => (await o.authenticate(params))?.owner ?? null,
            onCheckFailed: (err) => {
              if (!isDatabaseOutage(err)) o.log.error({ err }, 'unexpected error while checking an open WebSocket credential again');
            },
          });
        }
        ctx.extra.owner = owner;
        ctx.extra.connectionId = `ws-${++connectionSeq}`;
        return true;
      },
      onSubscribe: maskUnexpected(o.log, async (ctx, id, payload) => {
        if (o.beforeOperation) {
          try {
            await o.beforeOperation(ctx.extra.owner!);
          } catch (error) {
            if (error instanceof GatewayError) return [toGraphQLError(error)];
            throw error;
          }
        }
        const decision = o.trustedDocuments?.decide(payload) ?? { pass: true };
        if ('error' in decision) return [decision.error];
        const request = 'query' in decision ? withDocument(payload, decision.query) : payload;
        const prepared = prepareSubscription(o, ctx.extra.owner!, `${ctx.extra.connectionId}:${id}`, request, 'WebSocket');
        if ('errors' in prepared) return prepared.errors;
        if (o.admitSubscription) {
          let release: () => void;
          try {
            release = o.admitSubscription(ctx.extra.owner!);
          } catch (error) {
            if (error instanceof GatewayError) return [toGraphQLError(error)];
            throw error;
          }
          if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) {
            // Closed while this subscribe waited on the quota: onClose has run and would never give the slot back.
            release();
          } else {
            // Given back in onComplete, which graphql-ws calls for every operation that got this far, or in onClose.
            const held = slots.get(ctx.extra.connectionId!) ?? new Map<string, () => void>();
            slots.set(ctx.extra.connectionId!, held);
            held.get(id)?.();
            held.set(id, release);
          }
        }
        return prepared.args;
      }),
      onOperation: (ctx) => {
        active.set(ctx.extra.connectionId!, (active.get(ctx.extra.connectionId!) ?? 0) + 1);
        o.metrics.subscriptions.inc();
      },
      onComplete: (ctx, id) => {
        releaseSlot(ctx.extra.connectionId, id);
        const n = active.get(ctx.extra.connectionId!) ?? 0;
        if (n > 0) {
          active.set(ctx.extra.connectionId!, n - 1);
          o.metrics.subscriptions.dec();
        }
      },
      onClose: (ctx) => {
        for (const release of slots.get(ctx.extra.connectionId ?? '')?.values() ?? []) release();
        slots.delete(ctx.extra.connectionId ?? '');
        const n = active.get(ctx.extra.connectionId ?? '') ?? 0;
        active.delete(ctx.extra.connectionId ?? '');
        o.metrics.subscriptions.dec(n);
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        // A subscription that cannot read its generation while the database is away (its key was
        // cached, so the connect succeeded): close with 1013 as on connect, so graphql-ws clients
        // reconnect and resubscribe instead of seeing the subscription end in an error.
        if (result.errors.some(isDatabaseOutage)) closeTryAgainLater(ctx.extra.socket);
        return { ...result, errors: format(result.errors) };
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wss,
    {
      keepAliveMs: o.keepAliveMs ?? 12_000,
      maxBufferedBytes: o.maxBufferedBytes ?? 1024 * 1024,
      writeTimeoutMs: o.writeTimeoutMs ?? 10_000,
    },
    o.log,
  );

  return {
    // Closes every socket with 1001 (Going Away), which graphql-ws clients retry elsewhere; once,
    // though Apollo's drain and a failed start may both ask.
    stop: () => cleanup.stop(),
  };
}

/** 1013 (try again later): graphql-ws clients reconnect and resubscribe, unlike after 4500. */
function closeTryAgainLater(socket: WebSocket): void {
  socket.close(SocketCloseCode.TryAgainLater, DATABASE_OUTAGE_REASON);
}

/**
 * Wraps `onSubscribe` so an unexpected error is logged once (redacted, by our logger) and answered
 * as a masked INTERNAL_SERVER_ERROR for that operation, instead of graphql-ws printing it to the
 * console and closing the whole socket with 4500.
 */
function maskUnexpected<A extends unknown[], R>(log: Logger, hook: (...args: A) => Promise<R>): (...args: A) => Promise<R | GraphQLError[]> {
  return async (...args) => {
    try {
      return await hook(...args);
    } catch (err) {
      log.error({ err }, 'unexpected error while starting a WebSocket operation');
      return [new GraphQLError('Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })];
    }
  };
}
