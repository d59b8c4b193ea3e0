/**
 * Errors the gateway reports to clients, as data.
 *
 * The domain throws `GatewayError`s; the GraphQL and WebSocket adapters turn them into
 * `GraphQLError`s whose `extensions.code` is the `ErrorCode`. Anything else that escapes is
 * unexpected: it is logged once and masked as `INTERNAL_SERVER_ERROR`.
 */
export enum ErrorCode {
  /** The input breaks a model's rules; `extensions.field` and `extensions.allowedValues` say how. */
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  /** Also what another owner's generation looks like: existence is never revealed. */
  NOT_FOUND = 'NOT_FOUND',
  /** Try again after `extensions.retryAfterSeconds`. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The idempotency key was used before with a different input. */
  IDEMPOTENCY_CONFLICT = 'IDEMPOTENCY_CONFLICT',
  /** The upstream refused the request (its 4xx reason, cleaned of secrets, is the message). */
  UPSTREAM_REJECTED = 'UPSTREAM_REJECTED',
  /** The upstream could not be reached or failed (5xx, timeout before sending, bad gateway). */
  UPSTREAM_UNAVAILABLE = 'UPSTREAM_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  /** The gateway's database cannot be reached right now; nothing was changed. Retry shortly. */
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
}

/**
 * Codes of refusals made before an operation runs, by the HTTP and WebSocket adapters and the
 * request limits, beside the ones graphql-js and Apollo assign (`ApolloServerErrorCode`: BAD_REQUEST,
 * GRAPHQL_PARSE_FAILED…). The domain never throws these.
 */
export enum RequestErrorCode {
  /** The GraphQL document is over GRAPHQL_MAX_DOCUMENT_BYTES (`extensions.limit`). HTTP 413. */
  DOCUMENT_TOO_LARGE = 'DOCUMENT_TOO_LARGE',
  /** The request body is over HTTP_MAX_BODY_BYTES. HTTP 413. */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** A body in a charset other than UTF-8. HTTP 415. */
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  /** The GraphQL path takes GET and POST only. HTTP 405. */
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  /** Over the connection cap; retry shortly. HTTP 503. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /**
   * A `documentId` or `extensions.persistedQuery.sha256Hash` no loaded manifest holds, sent without
   * the text (TRUSTED_DOCUMENTS allow or require). HTTP 200, as Apollo answers the same code, so APQ
   * clients retry with the text.
   */
  PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND',
  /** TRUSTED_DOCUMENTS=require and the document is in no loaded manifest (by id or by identical text). HTTP 400. */
  PERSISTED_QUERY_REQUIRED = 'PERSISTED_QUERY_REQUIRED',
}

export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for `extensions` (field path, allowed values, retryAfterSeconds…). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export function badInput(field: string, message: string, allowedValues?: readonly unknown[]): GatewayError {
  return new GatewayError(ErrorCode.BAD_USER_INPUT, message, {
    field,
    ...(allowedValues ? { allowedValues: [...allowedValues] } : {}),
  });
}

export function notFound(what = 'Video generation'): GatewayError {
  return new GatewayError(ErrorCode.NOT_FOUND, `${what} not found`);
}
