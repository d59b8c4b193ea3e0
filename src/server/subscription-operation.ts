/**
 * What every subscription transport (graphql-ws, GraphQL over SSE, Apollo's multipart HTTP) checks
 * before it runs an operation, so none of them is a way around another's limits: the request's
 * bounds, the same parse and validation rules as Apollo's HTTP path, and subscriptions only.
 */
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { getOperationAST, GraphQLError, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError } from '../errors';
import { lazyChild } from '../logger';
import type { GraphQLContext } from '../graphql/context';
import { checkWebSocketDocument, type DocumentProtectionOptions } from '../graphql/document-limits';
import { DEFAULT_REQUEST_LIMITS, requestOutOfBounds } from '../graphql/request-limits';

export interface SubscriptionOperationOptions {
  schema: GraphQLSchema;
  introspection: boolean;
  /** The same request limits and document cache budget as HTTP. Default: their safe defaults. */
  documentProtection?: DocumentProtectionOptions;
  context: (owner: string, requestId: string, log: () => Logger) => GraphQLContext;
  log: Logger;
}

/** A subscribe request as every transport receives it: fields not yet known to have the right types. */
export interface SubscribeRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** A checked subscription: the execution arguments but its context, which needs the owner. */
export type CheckedSubscription = Pick<ExecutionArgs, 'schema' | 'document' | 'operationName' | 'variableValues'>;

/**
 * The checked subscription in `request`, or the errors to answer it with. `notSubscription` marks
 * a valid query or mutation, which the multipart transport hands to Apollo and the others refuse.
 */
export function checkSubscription(
  o: Omit<SubscriptionOperationOptions, 'context' | 'log'>,
  request: SubscribeRequest,
  transport: string,
): CheckedSubscription | { errors: GraphQLError[]; notSubscription?: true } {
  const { query, variables, operationName } = request;
  const refused = requestOutOfBounds(query, variables, o.documentProtection?.limits ?? DEFAULT_REQUEST_LIMITS);
  if (refused) return { errors: [refused] };
  if (typeof query !== 'string') return { errors: [badRequest('`query` must be a string holding a GraphQL document')] };
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables)))
    return { errors: [badRequest('`variables` must be an object')] };
  if (operationName != null && typeof operationName !== 'string') return { errors: [badRequest('`operationName` must be a string')] };
  const checked = checkWebSocketDocument(o.schema, query, o.introspection, o.documentProtection);
  if ('errors' in checked) return checked;
  const operation = getOperationAST(checked.document, operationName);
  if (!operation) return { errors: [badRequest('The document does not name one operation to run: send `operationName`')] };
  if (operation.operation !== 'subscription') {
    return {
      errors: [badRequest(`Only subscriptions are served over ${transport}; send queries and mutations over HTTP`)],
      notSubscription: true,
    };
  }
  return {
    schema: o.schema,
    document: checked.document,
    operationName: operationName ?? undefined,
    variableValues: (variables as Record<string, unknown> | null | undefined) ?? undefined,
  };
}

/** `checkSubscription` and the context for `owner`: what graphql-js's `subscribe` takes, or the errors. */
export function prepareSubscription(
  o: SubscriptionOperationOptions,
  owner: string,
  requestId: string,
  request: SubscribeRequest,
  transport: string,
): { args: ExecutionArgs & { contextValue: GraphQLContext } } | { errors: GraphQLError[]; notSubscription?: true } {
  const checked = checkSubscription(o, request, transport);
  if ('errors' in checked) return checked;
  return { args: { ...checked, contextValue: o.context(owner, requestId, lazyChild(o.log, { requestId })) } };
}

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: ApolloServerErrorCode.BAD_REQUEST } });

/**
 * A DATABASE_UNAVAILABLE from the store, thrown as is or wrapped in a resolver's GraphQLError: a
 * subscription that cannot read its generation now, which every transport ends so that its client
 * tries again later, rather than as a final error.
 */
export function isDatabaseOutage(error: unknown): boolean {
  const cause = error instanceof GraphQLError ? error.originalError : error;
  return cause instanceof GatewayError && cause.code === ErrorCode.DATABASE_UNAVAILABLE;
}

/** The reason given to a client whose subscription ended because the database is away. */
export const DATABASE_OUTAGE_REASON = 'Database unavailable; try again later';
