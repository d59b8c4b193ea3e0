import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { WebhookDelivery as Delivery } from '../../model/webhook';
import { requireOwner, type GraphQLContext } from '../context';
import { WebhookDelivery } from '../types/webhook-delivery.type';

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @Query(() => [WebhookDelivery], { description: 'Your webhook deliveries, newest first: of one endpoint, of one generation, or all.' })
  webhookDeliveries(
    @Ctx() ctx: GraphQLContext,
    @Arg('endpointId', () => ID, { nullable: true, description: "One of your endpoints; another owner's is NOT_FOUND." })
    endpointId?: string | null,
    @Arg('generationId', () => ID, { nullable: true }) generationId?: string | null,
    @Arg('first', () => Int, { defaultValue: 20, description: 'At most 100.' }) first: number = 20,
  ): Promise<Delivery[]> {
    return ctx.webhooks.deliveries.list(requireOwner(ctx), { endpointId, generationId, first });
  }
}
