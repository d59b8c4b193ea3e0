/**
 * The node:http adapter: health, readiness, metrics, and GraphQL through Apollo's
 * `executeHTTPGraphQLRequest`. Input problems (size, charset, JSON) become JSON 4xx answers here,
 * before GraphQL sees them; only unexpected errors become a 500, logged once.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError, RequestErrorCode } from '../errors';
import { lazyChild } from '../logger';
import type { GraphQLContext } from '../graphql/context';
import { jsonDeeperThan, jsonShapeProblem, requestOutOfBounds, type RequestLimits } from '../graphql/request-limits';
import { withDocument, type DocumentRequest, type TrustedDocuments } from '../graphql/trusted-documents';
import { subscriptionProtocol, type StreamRequest } from './http-subscriptions';
import { guardDelivery, type ConnectionCap, type DeliveryLimits, type DropReason } from './connection-limits';
import { metricsScrapeStatus, type Metrics, type MetricsAccess } from './metrics';
import type { StaticAssets } from './static-assets';

/** Generic in the context so any ApolloServer can be hosted (the Apollo integration suite does). */
/** What `authenticate` returns for a credential it refuses: a symbol, so no owner name can collide with it. */
export const INVALID_CREDENTIALS: unique symbol = Symbol('invalid credentials');

export interface HttpHandlerOptions<TContext extends BaseContext = GraphQLContext> {
  apollo: ApolloServer<TContext>;
  /** Default `/graphql`. */
  graphqlPath: string;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /**
   * Resolves the request's owner from its `Authorization` header: an owner, null (anonymous) or INVALID_CREDENTIALS.
   * Without it every request is anonymous.
   */
  authenticate?: (authorization: string | undefined) => Promise<string | null | typeof INVALID_CREDENTIALS>;
  /** `log`: the request's logger, made when first asked for. */
  context: (owner: string | null, requestId: string, log: () => Logger) => TContext | Promise<TContext>;
  /** Checked before each GraphQL request of an owner (per-owner rate limits); a thrown GatewayError refuses it. Default: none. */
  beforeOperation?: (owner: string) => Promise<void>;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics: Pick<Metrics, 'registry'>;
  /** Who may read `/metrics`. Default: open. */
  metricsAccess?: MetricsAccess;
  log: Logger;
  /** The progress page and the playground; absent: none served. */
  staticAssets?: StaticAssets;
  /** Stored videos under /media/ (media-route.ts): true when it took the request. Absent: none served. */
  media?: (req: IncomingMessage, res: ServerResponse, pathname: string, search: string) => boolean;
  /** Adds CORS headers on the GraphQL path and answers preflights (true: answered). Absent: no CORS. */
  cors?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Document bytes, variables depth and list sizes, checked before parsing. Absent: not checked. */
  requestLimits?: RequestLimits;
  /**
   * Spends one operation of the client's budget for requests without a valid credential (by client
   * address); a thrown RATE_LIMITED GatewayError refuses it with 429. Absent: unlimited.
   */
  anonymousOperation?: (req: IncomingMessage) => Promise<void>;
  /** Connections above the cap are answered 503 (health checks excepted) and closed. Absent: no cap. */
  connectionCap?: Pick<ConnectionCap, 'isShed'>;
  /**
   * Serves a subscription over SSE or multipart HTTP when the request's Accept header asks for one,
   * after the same authentication, quotas and body limits as any GraphQL request (true: served).
   * Absent: Apollo answers every request.
   */
  subscriptionStream?: (req: IncomingMessage, res: ServerResponse, request: StreamRequest) => Promise<boolean>;
  /**
   * Decides each request's document (by id, or only trusted ones) before Apollo or a subscription
   * stream parses it; applies to POST and GET alike. Absent: every document goes on as sent.
   */
  trustedDocuments?: TrustedDocuments;
  /** A response that cannot be delivered within these limits drops its connection. Absent: waits forever. */
  delivery?: DeliveryLimits & { onDropped?: (reason: DropReason) => void };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: ErrorCode | RequestErrorCode | ApolloServerErrorCode,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

export function createHttpHandler<TContext extends BaseContext = GraphQLContext>(o: HttpHandlerOptions<TContext>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    // Made only if something logs: pino's child() serialises its bindings each time, and most requests never log.
    const log = lazyChild(o.log, { requestId });
    // Started once the response is handed to Node, not before: a create may wait long for the upstream.
    const guard = () => {
      if (!o.delivery) return;
      const { onDropped, ...limits } = o.delivery;
      guardDelivery(res, limits, (reason, unsentBytes) => {
        log().warn({ reason, unsentBytes }, 'dropped a connection whose client did not take its response');
        onDropped?.(reason);
      });
    };
    handle(o, req, res, requestId, log)
      .catch((err: unknown) => {
        if (err instanceof HttpError)
          return sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code, ...err.extensions } }] });
        // Authentication reads the key store: with the database down, say so (and that a retry helps).
        if (err instanceof GatewayError && err.code === ErrorCode.DATABASE_UNAVAILABLE) {
          return sendJson(res, 503, { errors: [{ message: err.message, extensions: { code: err.code } }] });
        }
        log().error({ err }, 'unexpected error while handling an HTTP request');
        sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] });
      })
      .finally(guard);
  };
}

const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

async function handle<TContext extends BaseContext>(
  o: HttpHandlerOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  log: () => Logger,
) {
  // Split the raw target by hand: `new URL()` throws on targets such as `//?query=`.
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  let search = q === -1 ? '' : target.slice(q);
  // Over the connection cap: a fast, clear answer instead of a hang, but health checks still answered.
  if (o.connectionCap?.isShed(req.socket) && !HEALTH_PATHS.has(pathname)) {
    req.resume();
    res.setHeader('retry-after', '1');
    res.setHeader('connection', 'close');
    return sendJson(res, 503, {
      errors: [{ message: 'Server busy: too many open connections; retry shortly', extensions: { code: RequestErrorCode.SERVICE_UNAVAILABLE } }],
    });
  }
  if (o.staticAssets?.handle(req, res, pathname, search)) return;
  if (o.media?.(req, res, pathname, search)) return;
  if (pathname === o.graphqlPath && o.cors?.(req, res)) return;

  if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
  if (pathname === '/readyz') {
    const { ready, checks } = await o.readiness();
    return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
  }
  if (pathname === '/metrics') {
    const access = metricsScrapeStatus(o.metricsAccess ?? 'open', req.headers.authorization);
    if (access === 401) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return sendJson(res, 401, {
        errors: [{ message: 'Metrics need the METRICS_TOKEN bearer token', extensions: { code: ErrorCode.UNAUTHENTICATED } }],
      });
    }
    if (access === 403) {
      return sendJson(res, 403, {
        errors: [{ message: 'Metrics are off: set METRICS_TOKEN to serve them', extensions: { code: ErrorCode.FORBIDDEN } }],
      });
    }
    res.writeHead(200, { 'content-type': o.metrics.registry.contentType });
    return res.end(await o.metrics.registry.metrics());
  }
  if (pathname !== o.graphqlPath) return sendJson(res, 404, { errors: [{ message: 'Not found', extensions: { code: ErrorCode.NOT_FOUND } }] });
  if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, POST');
    return sendJson(res, 405, { errors: [{ message: 'Method not allowed', extensions: { code: RequestErrorCode.METHOD_NOT_ALLOWED } }] });
  }

  const owner = o.authenticate ? await o.authenticate(req.headers.authorization) : null;
  if (owner === null || owner === INVALID_CREDENTIALS) {
    if (o.anonymousOperation && !(await admitted(() => o.anonymousOperation!(req), req, res))) return;
  }
  if (owner === INVALID_CREDENTIALS) {
    res.setHeader('www-authenticate', 'Bearer');
    return sendJson(res, 401, {
      errors: [{ message: 'Invalid, expired or revoked credentials (API key or token)', extensions: { code: ErrorCode.UNAUTHENTICATED } }],
    });
  }

  if (owner && o.beforeOperation && !(await admitted(() => o.beforeOperation!(owner), req, res))) return;

  const maxJsonDepth = o.requestLimits ? o.requestLimits.maxVariablesDepth + 1 : Infinity;
  const maxJsonItems = o.requestLimits?.maxListItems ?? Infinity;
  let body = req.method === 'POST' ? await readBody(req, o.maxBodyBytes, maxJsonDepth, maxJsonItems) : undefined;
  if (o.requestLimits) checkShape(req.method === 'POST' ? body : getParams(search, maxJsonDepth), o.requestLimits);
  if (o.trustedDocuments) {
    // A stream request is answered 400 for an unknown id too: a 200 without a stream is no answer to it.
    const stream = subscriptionProtocol(req.headers.accept) !== null;
    ({ body, search } = decideDocument(o.trustedDocuments, req.method === 'POST', body, search, stream));
  }
  if (o.subscriptionStream && (await o.subscriptionStream(req, res, { owner, body, search, requestId, log }))) return;
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const response = await o.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method!.toUpperCase(), headers, search, body },
    context: async () => o.context(owner, requestId, log),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') return res.end(response.body.string);
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * Runs a quota check; a GatewayError it throws is answered here (429 with Retry-After for
 * RATE_LIMITED, else 403) and false returned.
 */
async function admitted(check: () => Promise<void>, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const retryAfter = error.details.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
    req.resume();
    sendJson(res, error.code === ErrorCode.RATE_LIMITED ? 429 : 403, {
      errors: [{ message: error.message, extensions: { code: error.code, ...error.details } }],
    });
    return false;
  }
}

/** A GET's `query` and `variables` parameters (variables parsed when they are JSON within the depth limit). */
function getParams(search: string, maxJsonDepth: number): { query: unknown; variables: unknown } {
  const params = new URLSearchParams(search);
  const text = params.get('variables');
  let variables: unknown;
  if (text !== null) {
    if (jsonDeeperThan(text, maxJsonDepth - 1)) throw tooDeep(maxJsonDepth - 1);
    try {
      variables = JSON.parse(text);
    } catch {
      // Apollo answers malformed variables itself.
    }
  }
  return { query: params.get('query'), variables };
}

/**
 * The request with the document the trusted-documents mode decided on in place (a POST's body, or
 * a GET's `query`, `documentId` and `extensions` parameters), or its refusal as an HttpError.
 */
function decideDocument(trusted: TrustedDocuments, post: boolean, body: unknown, search: string, stream: boolean): { body: unknown; search: string } {
  if (post) {
    // Not a JSON object: Apollo refuses it; a batch (an array) is refused before anything runs.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body, search };
    const decision = trusted.decide(body as DocumentRequest);
    if ('error' in decision) throw documentRefused(decision.error, stream);
    return 'query' in decision ? { body: withDocument(body as DocumentRequest, decision.query), search } : { body, search };
  }
  const params = new URLSearchParams(search);
  const extensionsText = params.get('extensions');
  let extensions: unknown = extensionsText ?? undefined;
  try {
    if (extensionsText !== null) extensions = JSON.parse(extensionsText);
  } catch {
    // Left as text: no id in it, and Apollo answers malformed extensions itself.
  }
  const decision = trusted.decide({ query: params.get('query') ?? undefined, documentId: params.get('documentId') ?? undefined, extensions });
  if ('error' in decision) throw documentRefused(decision.error, stream);
  if (!('query' in decision)) return { body, search };
  const decided = withDocument({ extensions }, decision.query);
  params.set('query', decision.query);
  params.delete('documentId');
  if (decided.extensions === undefined) params.delete('extensions');
  else params.set('extensions', JSON.stringify(decided.extensions));
  return { body, search: `?${params.toString()}` };
}

function documentRefused(error: GraphQLError, stream: boolean): HttpError {
  const code = error.extensions.code as RequestErrorCode;
  // 200 for an unknown id, as Apollo answers it, so APQ clients go on to send the text.
  return new HttpError(code === RequestErrorCode.PERSISTED_QUERY_NOT_FOUND && !stream ? 200 : 400, error.message, code);
}

/** Refuses an oversized document (413) or out-of-bounds variables (400) before Apollo parses them. */
function checkShape(body: unknown, limits: RequestLimits): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const { query, variables } = body as { query?: unknown; variables?: unknown };
  const refused = requestOutOfBounds(query, variables, limits);
  if (refused) {
    const { code, ...extensions } = refused.extensions as { code: ErrorCode.BAD_USER_INPUT | RequestErrorCode.DOCUMENT_TOO_LARGE };
    throw new HttpError(code === ErrorCode.BAD_USER_INPUT ? 400 : 413, refused.message, code, extensions);
  }
}

const tooDeep = (levels: number) =>
  new HttpError(400, `JSON nested deeper than ${levels} levels`, ApolloServerErrorCode.BAD_REQUEST, { limit: levels });

/**
 * Reads a JSON body within `limit` bytes, `maxDepth` levels of nesting and `maxItems` entries per list
 * or object (checked before JSON.parse, whose cost grows with both); anything not JSON is passed on as
 * text for Apollo to refuse.
 */
async function readBody(req: IncomingMessage, limit: number, maxDepth: number, maxItems: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, `Request body larger than ${limit} bytes`, RequestErrorCode.PAYLOAD_TOO_LARGE);
  const contentType = req.headers['content-type'] ?? '';
  const charset = /charset=([^;]+)/i.exec(contentType)?.[1]?.trim().toLowerCase().replace(/^"|"$/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(415, `Unsupported charset "${charset}": send UTF-8`, RequestErrorCode.UNSUPPORTED_MEDIA_TYPE);
  }
  const text = await readText(req, limit);
  if (!/^application\/(graphql-response\+)?json/i.test(contentType.trim())) return text;
  if (text.trim() === '') return {};
  if (maxDepth !== Infinity || maxItems !== Infinity) {
    const problem = jsonShapeProblem(text, maxDepth, maxItems);
    if (problem?.kind === 'depth') throw tooDeep(maxDepth);
    if (problem?.kind === 'items') {
      // The same answer the walk over parsed variables gives, without parsing the list first.
      throw new HttpError(
        400,
        `${problem.path || 'the request body'} has more than ${maxItems} items; at most ${maxItems} are accepted`,
        ErrorCode.BAD_USER_INPUT,
        {
          field: problem.path,
          limit: maxItems,
        },
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Invalid JSON in request body', ApolloServerErrorCode.BAD_REQUEST);
  }
}

/**
 * The body as UTF-8 text, at most `limit` bytes. Plain 'data'/'end' listeners: an async iterator
 * over the request cost a measurable share of a small query's time (BENCHMARKS.md, HTTP).
 */
function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new HttpError(413, `Request body larger than ${limit} bytes`, RequestErrorCode.PAYLOAD_TOO_LARGE));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      // Closed before the end: the client went away; nothing to answer.
      cleanup();
      reject(new HttpError(400, 'Request body incomplete', ApolloServerErrorCode.BAD_REQUEST));
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
