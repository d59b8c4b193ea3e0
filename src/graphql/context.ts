import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError } from '../errors';
import type { GenerationService } from '../generations/service';
import type { Generation } from '../model/generation';
import { toGraphQLError } from './errors';

/** What every resolver gets. Built per HTTP request, and per subscription over WebSocket. */
export interface GraphQLContext {
  /** The authenticated owner, or null for an anonymous request. */
  owner: string | null;
  service: GenerationService;
  /** Per-request batching of reads by id; null over WebSocket, where a context outlives many events. */
  generationLoader: DataLoader<string, Generation | null> | null;
  requestId: string;
  log: Logger;
}

export function createContext(
  service: GenerationService,
  owner: string | null,
  requestId: string,
  log: Logger,
  withLoader: boolean,
): GraphQLContext {
  return {
    owner,
    service,
    generationLoader: withLoader && owner ? new DataLoader((ids) => service.getMany(owner, ids)) : null,
    requestId,
    log,
  };
}

export function requireOwner(context: GraphQLContext): string {
  if (!context.owner) {
    // Thrown as a GraphQLError so its `extensions.http` makes the HTTP response a 401.
    throw toGraphQLError(
      new GatewayError(ErrorCode.UNAUTHENTICATED, 'An API key is required: send `Authorization: Bearer <key>`'),
    );
  }
  return context.owner;
}
