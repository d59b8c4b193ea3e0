/**
 * Apollo's multipart HTTP subscriptions (`Accept: multipart/mixed;subscriptionSpec="1.0"`), as
 * Apollo Router serves them and Apollo Client's HttpLink reads them: one `multipart/mixed` response
 * per subscription, each event a JSON part `{"payload": {data, errors}}`, an empty `{}` part as a
 * heartbeat, a transport error as `{"payload": null, "errors": [...]}`, and the closing boundary
 * once the subscription completes. No library serves it on node:http, so this writes it.
 */
import type { ServerResponse } from 'node:http';
import { GraphQLError, subscribe, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, RequestErrorCode } from '../errors';
import { SocketCloseCode } from './close-codes';
import type { HttpStream } from './http-stream';
import type { Metrics } from './metrics';

export const MULTIPART_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"';

const BOUNDARY = '\r\n--graphql';
/** Follows the last part's boundary, making it the closing one. */
const END = '--\r\n';

/**
 * One part, followed by the next boundary so that a client acts on it at once (Apollo Client
 * hands a part on only when it sees the boundary after it).
 */
export function multipartPart(body: unknown): string {
  return `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${JSON.stringify(body)}${BOUNDARY}`;
}

/** Does this Accept header ask for Apollo's multipart subscriptions? */
export function acceptsMultipartSubscription(accept: string | undefined): boolean {
  return accept !== undefined && /multipart\/mixed/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0"?/i.test(accept);
}

export interface MultipartOptions {
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: Pick<Metrics, 'subscriptions'>;
  /** Time between heartbeat parts, in ms. */
  heartbeatMs: number;
}

/** Runs the checked subscription `args` and streams it to `res` until it completes or is closed. */
export async function serveMultipart(
  o: MultipartOptions,
  res: ServerResponse,
  args: ExecutionArgs,
  log: Logger,
  openStream: (lastWords: typeof multipartLastWords) => HttpStream,
): Promise<void> {
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => o.formatError(e.toJSON(), e));
  const payload = (result: ExecutionResult) => (result.errors ? { ...result, errors: format(result.errors) } : result);
  let result: Awaited<ReturnType<typeof subscribe>>;
  try {
    result = await subscribe(args);
  } catch (err) {
    log.error({ err }, 'unexpected error while starting a multipart HTTP subscription');
    result = { errors: [new GraphQLError('Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })] };
  }
  const stream = openStream(multipartLastWords);
  res.writeHead(200, { 'content-type': MULTIPART_CONTENT_TYPE, 'cache-control': 'no-cache, no-store' });
  stream.write(BOUNDARY);
  if (!(Symbol.asyncIterator in result)) {
    // Refused at subscribe time (not found, another owner's id): one payload, then the end.
    stream.end(multipartPart({ payload: payload(result) }) + END);
    return;
  }
  const events = result;
  o.metrics.subscriptions.inc();
  const heartbeat = setInterval(() => stream.write(multipartPart({})), o.heartbeatMs);
  stream.once('close', () => {
    clearInterval(heartbeat);
    o.metrics.subscriptions.dec();
    void events.return?.();
  });
  try {
    for await (const next of events) stream.write(multipartPart({ payload: payload(next) }));
    stream.end(END);
  } catch (err) {
    log.error({ err }, 'unexpected error in a multipart HTTP subscription');
    stream.end(transportError('Internal server error', ErrorCode.INTERNAL_SERVER_ERROR));
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * A transport error ends the stream, and Apollo Client reports it as the subscription's error:
 * shutdown (subscribe again, to another instance), a refused credential, anything else.
 */
export function multipartLastWords(code: number, reason: string): string {
  if (code === SocketCloseCode.GoingAway)
    return transportError('The gateway is shutting down: subscribe again', RequestErrorCode.SERVICE_UNAVAILABLE);
  return transportError(reason, code === SocketCloseCode.Forbidden ? ErrorCode.UNAUTHENTICATED : ErrorCode.INTERNAL_SERVER_ERROR);
}

function transportError(message: string, code: string): string {
  return multipartPart({ payload: null, errors: [{ message, extensions: { code } }] }) + END;
}
