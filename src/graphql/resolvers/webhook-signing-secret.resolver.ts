import { Ctx, Mutation, Resolver } from 'type-graphql';
import type { WebhookSigningSecret as SigningSecret } from '../../model/webhook';
import { requireOwner, type GraphQLContext } from '../context';
import { WebhookSigningSecret } from '../types/webhook-signing-secret.type';

@Resolver(() => WebhookSigningSecret)
export class WebhookSigningSecretResolver {
  @Mutation(() => WebhookSigningSecret, {
    description:
      'Creates your signing secret for per-generation webhooks, or replaces it and shows the new one, once. Until `previousSecretExpiresAt` deliveries carry signatures with both secrets.',
  })
  rotateWebhookSigningSecret(@Ctx() ctx: GraphQLContext): Promise<SigningSecret> {
    return ctx.webhooks.generations.rotateSigningSecret(requireOwner(ctx));
  }
}
