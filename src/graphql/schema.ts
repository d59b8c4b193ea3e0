import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { GenerationEvents } from '../generations/events';
import { VideoGenerationResolver } from './resolvers/video-generation.resolver';
import { UsageResolver } from './resolvers/usage.resolver';
import { VideoModelResolver } from './resolvers/video-model.resolver';

/** The gateway's schema. `schema/schema.graphql` is this, printed (`npm run schema`). */
export function buildGatewaySchema(events: Pick<GenerationEvents, 'pubSub'>): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [VideoGenerationResolver, VideoModelResolver, UsageResolver],
    // Subscriptions here supply their own `subscribe`, but type-graphql still requires a pubsub.
    pubSub: events.pubSub,
    validate: false,
  });
}
