/**
 * How errors reach clients, on HTTP and WebSocket alike.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError, RequestErrorCode } from '../errors';

/** HTTP status for errors that decide the whole response (Apollo reads `extensions.http`). */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
};

/** Codes that graphql-js, Apollo and the request limits assign, and the gateway's own: safe to show. */
const PASS_THROUGH = new Set<string>([
  ...Object.values(ApolloServerErrorCode),
  RequestErrorCode.DOCUMENT_TOO_LARGE,
  RequestErrorCode.PERSISTED_QUERY_NOT_FOUND,
  RequestErrorCode.PERSISTED_QUERY_REQUIRED,
  ...Object.values(ErrorCode),
]);

export function toGraphQLError(error: GatewayError): GraphQLError {
  const status = HTTP_STATUS[error.code];
  return new GraphQLError(error.message, {
    extensions: { code: error.code, ...error.details, ...(status ? { http: { status } } : {}) },
  });
}

/**
 * Returns Apollo's `formatError`: gateway errors carry their code and details; graphql-js
 * errors (parse, validation, variable coercion) pass; anything else is logged once and masked.
 */
export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.details },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_THROUGH.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, message: withoutSuggestions(formatted.message), extensions };
    }
    if (original instanceof GraphQLError && !original.originalError && code === undefined) {
      // A graphql-js error without a code (e.g. a type-graphql argument error): safe to show.
      return { message: withoutSuggestions(formatted.message), locations: formatted.locations, path: formatted.path };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error while resolving');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * Cuts graphql-js's "Did you mean …?" hints, which reveal schema names. Apollo's
 * `hideSchemaDetailsFromClientErrors` and armor only cover validation errors; variable
 * coercion errors ("Value "QUEUD" does not exist in "GenerationStatus" enum. Did you mean …")
 * reach this formatter with the hint still in, on HTTP and on WebSocket.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean .*$/s, '');
}

/**
 * A response that has no data because of an unexpected error is an HTTP 500, as the README promises:
 * a client or a load balancer then sees a server fault rather than a 200. Partial data keeps its 200
 * (GraphQL over HTTP requires a 2xx whenever `data` is present).
 */
export const internalErrorStatusPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        if (data == null && errors?.some((e) => e.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR)) {
          response.http.status = 500;
        }
      },
    };
  },
};
