/**
 * GraphQL over Server-Sent Events with the graphql-sse library, in its "distinct connections"
 * mode: one POST (or GET) per subscription, answered with an event stream. The library speaks the
 * protocol (and sends a keep-alive comment every 12 s); this adapter gives it the checks every
 * transport shares (subscription-operation.ts) and writes its stream through an HttpStream, so
 * credential expiry, revocation and shutdown end it as they close a WebSocket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { createHandler, type ExecutionResult, type OperationArgs } from 'graphql-sse';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors';
import { SocketCloseCode } from './close-codes';
import type { HttpStream, LastWords } from './http-stream';
import type { Metrics } from './metrics';
import { prepareSubscription, type SubscriptionOperationOptions } from './subscription-operation';

/** What one SSE request carries through graphql-sse's callbacks. */
export interface SseRequestContext {
  owner: string;
  requestId: string;
  log: Logger;
  /** The parsed JSON body of a POST; a GET's parameters are read from its URL by graphql-sse. */
  body: unknown;
  /** A GET's query string as the HTTP handler left it (the trusted document in place); absent: the URL's own. */
  search?: string;
  /** Set once the operation runs, so the gauge is lowered only for what raised it. */
  counted?: boolean;
}

export interface SseOptions extends SubscriptionOperationOptions {
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: Pick<Metrics, 'subscriptions'>;
}

type OperationContext = Record<PropertyKey, unknown>;

export function createSseHandler(o: SseOptions) {
  // Errors already formatted (a refusal from onSubscribe passes through onNext too) are left alone.
  const format = (errors: readonly unknown[]) =>
    errors.map((e) => (e instanceof GraphQLError ? o.formatError(e.toJSON(), e) : e)) as unknown as readonly GraphQLError[];
  const handler = createHandler<IncomingMessage, SseRequestContext, OperationContext>({
    // null: no stream tokens, so only the distinct connections mode is served (the single
    // connection mode keeps per-token state between requests, which several instances do not share).
    authenticate: () => null,
    onSubscribe: (req, params) => {
      const { owner, requestId } = req.context;
      const prepared = prepareSubscription(o, owner, requestId, params, 'GraphQL over SSE');
      // `data` makes it an execution result to graphql-sse, which then streams it and completes.
      if ('errors' in prepared) return { data: null, errors: format(prepared.errors) } satisfies ExecutionResult;
      return prepared.args as unknown as OperationArgs<OperationContext>;
    },
    onOperation: (_ctx, req) => {
      req.context.counted = true;
      o.metrics.subscriptions.inc();
    },
    onNext: (_ctx, _req, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
    onComplete: (_ctx, req) => {
      if (req.context.counted) o.metrics.subscriptions.dec();
      req.context.counted = false;
    },
  });

  /** Answers `req`: an event stream opened with `openStream`, or graphql-sse's refusal. */
  return async (req: IncomingMessage, res: ServerResponse, context: SseRequestContext, openStream: (lastWords: LastWords) => HttpStream) => {
    const [body, init] = await handler({
      method: req.method ?? 'GET',
      url: context.search === undefined ? (req.url ?? '/') : `${(req.url ?? '/').split('?')[0]}${context.search}`,
      headers: { get: (key) => headerValue(req, key) },
      body: context.body === undefined ? null : (context.body as string | Record<PropertyKey, unknown> | null),
      raw: req,
      context,
    });
    if (body === null || typeof body === 'string') {
      res.writeHead(init.status, init.headers);
      res.end(body ?? undefined);
      return;
    }
    const stream = openStream(sseLastWords);
    stream.once('close', () => void body.return(undefined));
    res.writeHead(init.status, init.headers);
    res.flushHeaders();
    try {
      for await (const chunk of body) stream.write(chunk);
      stream.end();
    } catch (err) {
      context.log.error({ err }, 'unexpected error in a GraphQL over SSE stream');
      stream.end(event('next', { errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] }));
    }
  };
}

/**
 * Shutdown ends the stream without `complete`, which graphql-sse clients take as a dropped
 * connection and retry (the snapshot then fills any gap); a refused credential is an error event
 * and `complete`, which they do not retry.
 */
export function sseLastWords(code: number, reason: string): string | null {
  if (code === SocketCloseCode.GoingAway) return null;
  const errorCode = code === SocketCloseCode.Forbidden ? ErrorCode.UNAUTHENTICATED : ErrorCode.INTERNAL_SERVER_ERROR;
  return event('next', { errors: [{ message: reason, extensions: { code: errorCode } }] }) + event('complete', null);
}

/** One event in graphql-sse's wire format (its `print`). */
function event(name: 'next' | 'complete', data: unknown): string {
  return `event: ${name}\ndata:${data === null ? '' : ` ${JSON.stringify(data)}`}\n\n`;
}

function headerValue(req: IncomingMessage, key: string): string | undefined {
  const value = req.headers[key.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
