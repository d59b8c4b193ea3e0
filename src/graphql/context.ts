import type { Logger } from 'pino';
import { ErrorCode, GatewayError } from '../errors';
import type { GenerationService } from '../generations/service';
import type { WebhookDeliveries } from '../webhooks/deliveries';
import type { WebhookEndpoints } from '../webhooks/endpoints';
import type { GenerationWebhooks } from '../webhooks/generation-webhooks';

/** The owner's webhook endpoints and the deliveries to them. */
export interface Webhooks {
  endpoints: WebhookEndpoints;
  deliveries: WebhookDeliveries;
  /** Per-generation webhooks and the owner's signing secret for them. */
  generations: GenerationWebhooks;
}
import { toGraphQLError } from './errors';

/** What every resolver gets. Built per HTTP request, and per subscription over WebSocket. */
export interface GraphQLContext {
  /** The authenticated owner, or null for an anonymous request. */
  owner: string | null;
  /** Reads by id made in the same tick share one store query there, across requests and transports. */
  service: GenerationService;
  webhooks: Webhooks;
  requestId: string;
  /** The request's logger (bound to its request id), made when first read. */
  readonly log: Logger;
}

/**
 * A class, so `log` is one getter on the prototype: an object literal with a getter costs about 1.5 µs to
 * make (V8 gives each one an accessor pair of its own), a seventh of the child logger it defers.
 */
class RequestContext implements GraphQLContext {
  constructor(
    readonly owner: string | null,
    readonly service: GenerationService,
    readonly webhooks: Webhooks,
    readonly requestId: string,
    private readonly requestLog: () => Logger,
  ) {}

  get log(): Logger {
    return this.requestLog();
  }
}

/** `log`: the request's logger, asked for only when something logs (see `lazyChild`). */
export function createContext(
  service: GenerationService,
  webhooks: Webhooks,
  owner: string | null,
  requestId: string,
  log: () => Logger,
): GraphQLContext {
  return new RequestContext(owner, service, webhooks, requestId, log);
}

export function requireOwner(context: GraphQLContext): string {
  if (!context.owner) {
    // Thrown as a GraphQLError so its `extensions.http` makes the HTTP response a 401.
    throw toGraphQLError(new GatewayError(ErrorCode.UNAUTHENTICATED, 'An API key is required: send `Authorization: Bearer <key>`'));
  }
  return context.owner;
}
