import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
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

  @Mutation(() => WebhookDelivery, {
    description:
      "Sends a delivery once more, now, with the same `webhook-id` (delivered, failed or pending alike; one being sent right now is left alone). Another owner's id is NOT_FOUND.",
  })
  redeliverWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Delivery> {
    return ctx.webhooks.deliveries.redeliver(requireOwner(ctx), id);
  }
}
