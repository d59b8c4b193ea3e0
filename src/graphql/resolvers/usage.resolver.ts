import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { GenerationStatus } from '../../model/generation';
import { requireOwner, type GraphQLContext } from '../context';
import { OwnerUsage } from '../types/owner-usage.type';

@Resolver(() => OwnerUsage)
export class UsageResolver {
  @Query(() => OwnerUsage, { description: "Your own usage; nobody else's is ever counted or shown." })
  async usage(
    @Ctx() ctx: GraphQLContext,
    @Arg('since', () => Date, { nullable: true, description: 'Count generations created at or after this time. Default: all.' })
    since?: Date | null,
  ): Promise<OwnerUsage> {
    const summary = await ctx.service.usage(requireOwner(ctx), since ?? null);
    return {
      ...summary,
      byStatus: Object.entries(summary.byStatus).map(([status, count]) => ({ status: status as GenerationStatus, count })),
    };
  }
}
