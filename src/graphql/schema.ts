import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { DateTimeISO } from './date-time-iso';
import { VideoGenerationResolver } from './resolvers/video-generation.resolver';
import { UsageResolver } from './resolvers/usage.resolver';
import { VideoModelResolver } from './resolvers/video-model.resolver';
import { WebhookDeliveryResolver } from './resolvers/webhook-delivery.resolver';
import { WebhookEndpointResolver } from './resolvers/webhook-endpoint.resolver';
import { WebhookSigningSecretResolver } from './resolvers/webhook-signing-secret.resolver';

/** The gateway's schema. `schema/schema.graphql` is this, printed (`npm run schema`). */
export function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      VideoGenerationResolver,
      VideoModelResolver,
      UsageResolver,
      WebhookEndpointResolver,
      WebhookDeliveryResolver,
      WebhookSigningSecretResolver,
    ],
    // Subscriptions here supply their own `subscribe` (GenerationEvents), so nothing is ever
    // published to this one; type-graphql still requires a pubsub.
    pubSub: createPubSub(),
    validate: false,
    // Apollo asserts the schema valid when it starts (and schema.test.ts checks it); type-graphql's own
    // check runs the whole introspection query over it, a tenth of a second of every start.
    skipCheck: true,
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
  });
}
