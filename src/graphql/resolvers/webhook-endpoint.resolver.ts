import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { badInput } from '../../errors';
import type { WebhookEndpoint as Endpoint, WebhookEndpointChange } from '../../model/webhook';
import type { EndpointWithSecret } from '../../webhooks/endpoints';
import { requireOwner, type GraphQLContext } from '../context';
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookEndpoint, WebhookEndpointWithSecret } from '../types/webhook-endpoint.type';

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @Query(() => [WebhookEndpoint], { description: 'Your webhook endpoints, oldest first.' })
  webhookEndpoints(@Ctx() ctx: GraphQLContext): Promise<Endpoint[]> {
    return ctx.webhooks.endpoints.list(requireOwner(ctx));
  }

  @Query(() => WebhookEndpoint, { nullable: true, description: "One of your webhook endpoints. Another owner's id is NOT_FOUND." })
  webhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Endpoint> {
    return ctx.webhooks.endpoints.get(requireOwner(ctx), id);
  }

  @Mutation(() => WebhookEndpointWithSecret, {
    description: 'Registers an endpoint. The answer carries its signing secret, which is never shown again (rotate it to get a new one).',
  })
  createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<EndpointWithSecret> {
    return ctx.webhooks.endpoints.create(requireOwner(ctx), input);
  }

  @Mutation(() => WebhookEndpoint, { description: 'Changes an endpoint; absent fields stay as they are.' })
  updateWebhookEndpoint(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Endpoint> {
    const owner = requireOwner(ctx);
    // An explicit null means "clear" only where clearing means something.
    if (input.url === null) throw badInput('input.url', 'input.url cannot be null: omit it to keep the URL');
    if (input.enabled === null) throw badInput('input.enabled', 'input.enabled cannot be null: omit it to keep it as it is');
    const change: WebhookEndpointChange = {};
    if (input.url !== undefined) change.url = input.url;
    if (input.description !== undefined) change.description = input.description;
    if (input.events !== undefined) change.events = input.events;
    if (input.enabled !== undefined) change.enabled = input.enabled;
    return ctx.webhooks.endpoints.update(owner, id, change);
  }

  @Mutation(() => WebhookEndpointWithSecret, {
    description:
      'Replaces the signing secret and shows the new one, once. Until `previousSecretExpiresAt` deliveries carry signatures with both secrets, so receivers can switch without losing any.',
  })
  rotateWebhookEndpointSecret(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<EndpointWithSecret> {
    return ctx.webhooks.endpoints.rotateSecret(requireOwner(ctx), id);
  }

  @Mutation(() => ID, { description: 'Deletes an endpoint; it receives nothing more. Answers its id.' })
  async deleteWebhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    await ctx.webhooks.endpoints.delete(requireOwner(ctx), id);
    return id;
  }
}
