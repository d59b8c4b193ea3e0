/**
 * Subscriptions over plain HTTP, for clients that cannot open a WebSocket: GraphQL over SSE
 * (sse.ts) and Apollo's multipart protocol (multipart-subscriptions.ts), on the GraphQL path,
 * chosen by the request's Accept header. The HTTP handler has already authenticated the request,
 * spent its quota and bounded its body; this adds what a WebSocket has for its whole life: a
 * credential that expires or is revoked ends the stream, as does shutdown, and a client that stops
 * reading is dropped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError } from '../errors';
import { SocketCloseCode } from './close-codes';
import { guardStreamDelivery, type DeliveryLimits, type DropReason } from './connection-limits';
import { closeWhenExpired } from './credential-expiry';
import { closeWhenRevoked } from './credential-recheck';
import { HttpStream, HttpStreams, type LastWords } from './http-stream';
import type { Metrics } from './metrics';
import { acceptsMultipartSubscription, serveMultipart } from './multipart-subscriptions';
import type { createSseHandler } from './sse';
import { checkSubscription, prepareSubscription, type SubscribeRequest, type SubscriptionOperationOptions } from './subscription-operation';

export interface HttpSubscriptionOptions extends SubscriptionOperationOptions {
  /** The owner of an `Authorization` header and when its credential expires, or null when refused. */
  authenticate: (authorization: string | undefined) => Promise<{ owner: string; expiresAt: Date | null } | null>;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: Pick<Metrics, 'subscriptions'>;
  /** How often an open stream's credential is checked again, in ms; 0 never. */
  credentialRecheckMs: number;
  /** Time between multipart heartbeat parts, in ms. */
  heartbeatMs: number;
  /**
   * Takes one of the owner's open-subscription slots (shared with graphql-ws) for a stream about to
   * open, returning its release; a thrown GatewayError refuses the stream. Absent: no cap.
   */
  admitSubscription?: (owner: string) => () => void;
  /** A stream whose client stops taking its bytes is dropped within these limits. */
  delivery: DeliveryLimits & { onDropped?: (reason: DropReason) => void };
}

/** A GraphQL request the HTTP handler has authenticated and bounded. */
export interface StreamRequest {
  /** The request's owner; null when anonymous. */
  owner: string | null;
  /** The parsed body of a POST (undefined for a GET). */
  body: unknown;
  /** The request target's query string, with its `?` (a GET's document already decided by trusted documents). */
  search: string;
  requestId: string;
  /** The request's logger, made when first asked for (most requests are not streams). */
  log: () => Logger;
}

export type SubscriptionProtocol = 'sse' | 'multipart';

/** The protocol an Accept header asks for; null: an ordinary GraphQL request, for Apollo. */
export function subscriptionProtocol(accept: string | undefined): SubscriptionProtocol | null {
  // Exactly, as graphql-sse itself decides that a request opens a distinct-connections stream.
  if (accept === 'text/event-stream') return 'sse';
  if (acceptsMultipartSubscription(accept)) return 'multipart';
  return null;
}

export function createHttpSubscriptions(o: HttpSubscriptionOptions) {
  const streams = new HttpStreams();
  // graphql-sse is loaded at the first SSE request: most deployments' clients use WebSockets.
  let sse: Promise<ReturnType<typeof createSseHandler>> | undefined;
  const sseHandler = () => (sse ??= import('./sse.js').then((m) => m.createSseHandler(o)));

  const opener =
    (res: ServerResponse, authorization: string | undefined, principal: { owner: string; expiresAt: Date | null }, log: Logger) =>
    (lastWords: LastWords): HttpStream => {
      const stream = new HttpStream(res, lastWords);
      streams.track(stream);
      const { onDropped, ...limits } = o.delivery;
      guardStreamDelivery(res, limits, (reason, unsentBytes) => {
        log.warn({ reason, unsentBytes }, 'dropped a subscription stream whose client did not take its events');
        onDropped?.(reason);
      });
      if (principal.expiresAt) closeWhenExpired(stream, principal.expiresAt);
      if (o.credentialRecheckMs > 0) {
        closeWhenRevoked(stream, {
          owner: principal.owner,
          everyMs: o.credentialRecheckMs,
          ownerNow: async () => (await o.authenticate(authorization))?.owner ?? null,
          onCheckFailed: (err) => log.warn({ err }, 'could not check an open subscription stream’s credential again; it stays open'),
        });
      }
      return stream;
    };

  return {
    /**
     * Serves `req` when it asks for a subscription stream; false leaves it to Apollo (another
     * Accept header, or a query or mutation sent with a multipart Accept, which Apollo answers).
     */
    serve: async (req: IncomingMessage, res: ServerResponse, r: StreamRequest): Promise<boolean> => {
      const protocol = subscriptionProtocol(req.headers.accept);
      if (!protocol) return false;
      let request: SubscribeRequest | undefined;
      if (protocol === 'multipart') {
        request = req.method === 'POST' ? (r.body as SubscribeRequest) : getRequest(r.search);
        if (request === null || typeof request !== 'object' || Array.isArray(request)) {
          sendJson(res, 400, [{ message: 'Send a JSON object with `query`', extensions: { code: 'BAD_REQUEST' } }]);
          return true;
        }
        const checked = checkSubscription(o, request, 'multipart HTTP');
        if ('errors' in checked) {
          if (checked.notSubscription) return false;
          sendJson(
            res,
            400,
            checked.errors.map((e) => o.formatError(e.toJSON(), e)),
          );
          return true;
        }
      }
      const authorization = req.headers.authorization;
      const principal = r.owner === null ? null : await o.authenticate(authorization);
      if (!principal || principal.owner !== r.owner) {
        res.setHeader('www-authenticate', 'Bearer');
        sendJson(res, 401, [
          { message: 'Subscriptions need an API key or token: send `Authorization: Bearer <key>`', extensions: { code: ErrorCode.UNAUTHENTICATED } },
        ]);
        return true;
      }
      if (o.admitSubscription) {
        let release: () => void;
        try {
          release = o.admitSubscription(principal.owner);
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error;
          const retryAfter = error.details.retryAfterSeconds;
          if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
          sendJson(res, 429, [{ message: error.message, extensions: { code: error.code, ...error.details } }]);
          return true;
        }
        // 'close' comes once, however the response ends: completed, refused, dropped or left by its client.
        res.once('close', release);
      }
      const log = r.log();
      const open = opener(res, authorization, principal, log);
      if (protocol === 'sse') {
        await (
          await sseHandler()
        )(req, res, { owner: principal.owner, requestId: r.requestId, log, body: r.body, search: r.search }, open);
        return true;
      }
      const prepared = prepareSubscription(o, principal.owner, r.requestId, request!, 'multipart HTTP');
      if ('errors' in prepared) {
        // Checked above; only a document that stopped being valid in between (never) lands here.
        sendJson(
          res,
          400,
          prepared.errors.map((e) => o.formatError(e.toJSON(), e)),
        );
        return true;
      }
      await serveMultipart(o, res, prepared.args, log, open);
      return true;
    },
    /** Ends every open stream: SSE clients reconnect, multipart clients see a transport error. */
    stop: () => streams.closeAll(SocketCloseCode.GoingAway, 'The gateway is shutting down'),
    /** Streams open now. */
    get open() {
      return streams.size;
    },
  };
}

/** A GET's GraphQL parameters; `variables` and `extensions` as JSON (left as text when not JSON, to be refused). */
function getRequest(search: string): SubscribeRequest {
  const params = new URLSearchParams(search);
  const json = (name: string): unknown => {
    const text = params.get(name);
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  return { query: params.get('query') ?? undefined, variables: json('variables'), operationName: params.get('operationName') ?? undefined };
}

function sendJson(res: ServerResponse, status: number, errors: unknown[]): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ errors }));
}
