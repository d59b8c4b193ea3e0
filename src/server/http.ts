/**
 * The node:http adapter: health, readiness, metrics, and GraphQL through Apollo's
 * `executeHTTPGraphQLRequest`. Input problems (size, charset, JSON) become JSON 4xx answers here,
 * before GraphQL sees them; only unexpected errors become a 500, logged once.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError } from '../errors';
import type { GraphQLContext } from '../graphql/context';
import { metricsScrapeStatus, type Metrics, type MetricsAccess } from './metrics';
import type { StaticAssets } from './static-assets';

/** Generic in the context so any ApolloServer can be hosted (the Apollo integration suite does). */
export interface HttpHandlerOptions<TContext extends BaseContext = GraphQLContext> {
  apollo: ApolloServer<TContext>;
  /** Default `/graphql`. */
  graphqlPath: string;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /**
   * Resolves the request's owner from its `Authorization` header: an owner, null (anonymous) or 'invalid'.
   * Without it every request is anonymous.
   */
  authenticate?: (authorization: string | undefined) => Promise<string | null | 'invalid'>;
  context: (owner: string | null, requestId: string, log: Logger) => TContext | Promise<TContext>;
  /** Checked before each GraphQL request of an owner (per-owner rate limits); a thrown GatewayError refuses it. Default: none. */
  beforeOperation?: (owner: string) => Promise<void>;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics: Pick<Metrics, 'registry'>;
  /** Who may read `/metrics`. Default: open. */
  metricsAccess?: MetricsAccess;
  log: Logger;
  /** The progress page and the playground; absent: none served. */
  staticAssets?: StaticAssets;
  /** Adds CORS headers on the GraphQL path and answers preflights (true: answered). Absent: no CORS. */
  cors?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
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
    const log = o.log.child({ requestId });
    handle(o, req, res, requestId, log).catch((err: unknown) => {
      if (err instanceof HttpError) return sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] });
      // Authentication reads the key store: with the database down, say so (and that a retry helps).
      if (err instanceof GatewayError && err.code === ErrorCode.DATABASE_UNAVAILABLE) {
        return sendJson(res, 503, { errors: [{ message: err.message, extensions: { code: err.code } }] });
      }
      log.error({ err }, 'unexpected error while handling an HTTP request');
      sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    });
  };
}

async function handle<TContext extends BaseContext>(o: HttpHandlerOptions<TContext>, req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger) {
  // Split the raw target by hand: `new URL()` throws on targets such as `//?query=`.
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  const search = q === -1 ? '' : target.slice(q);
  if (o.staticAssets?.handle(req, res, pathname, search)) return;
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
      return sendJson(res, 401, { errors: [{ message: 'Metrics need the METRICS_TOKEN bearer token', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    if (access === 403) {
      return sendJson(res, 403, { errors: [{ message: 'Metrics are off: set METRICS_TOKEN to serve them', extensions: { code: 'FORBIDDEN' } }] });
    }
    res.writeHead(200, { 'content-type': o.metrics.registry.contentType });
    return res.end(await o.metrics.registry.metrics());
  }
  if (pathname !== o.graphqlPath) return sendJson(res, 404, { errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
  if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, POST');
    return sendJson(res, 405, { errors: [{ message: 'Method not allowed', extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
  }

  const owner = o.authenticate ? await o.authenticate(req.headers.authorization) : null;
  if (owner === 'invalid') {
    res.setHeader('www-authenticate', 'Bearer');
    return sendJson(res, 401, {
      errors: [{ message: 'Invalid, expired or revoked credentials (API key or token)', extensions: { code: 'UNAUTHENTICATED' } }],
    });
  }

  if (owner && o.beforeOperation) {
    try {
      await o.beforeOperation(owner);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      const retryAfter = error.details.retryAfterSeconds;
      if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
      req.resume();
      return sendJson(res, error.code === ErrorCode.RATE_LIMITED ? 429 : 403, {
        errors: [{ message: error.message, extensions: { code: error.code, ...error.details } }],
      });
    }
  }

  const body = req.method === 'POST' ? await readBody(req, o.maxBodyBytes) : undefined;
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

/** Reads a JSON body within `limit` bytes; anything not JSON is passed on as text for Apollo to refuse. */
async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, `Request body larger than ${limit} bytes`, 'PAYLOAD_TOO_LARGE');
  const contentType = req.headers['content-type'] ?? '';
  const charset = /charset=([^;]+)/i.exec(contentType)?.[1]?.trim().toLowerCase().replace(/^"|"$/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(415, `Unsupported charset "${charset}": send UTF-8`, 'UNSUPPORTED_MEDIA_TYPE');
  }
  const text = await readText(req, limit);
  if (!/^application\/(graphql-response\+)?json/i.test(contentType.trim())) return text;
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Invalid JSON in request body', 'BAD_REQUEST');
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
        reject(new HttpError(413, `Request body larger than ${limit} bytes`, 'PAYLOAD_TOO_LARGE'));
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
      reject(new HttpError(400, 'Request body incomplete', 'BAD_REQUEST'));
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
