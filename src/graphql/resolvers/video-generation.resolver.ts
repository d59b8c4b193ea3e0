import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { ErrorCode, GatewayError, notFound } from '../../errors';
import { encodeCursor } from '../../generations/service';
import { GenerationStatus, type Generation, type GenerationInput } from '../../model/generation';
import { requireOwner, type GraphQLContext } from '../context';
import { AspectRatio, PersonGeneration, Resolution, UpstreamProvider } from '../enums';
import { CreateVideoGenerationInput, VideoGenerationFilter } from '../types/inputs';
import { GenerationSettings, Video, VideoGeneration, VideoGenerationConnection } from '../types/video-generation.type';
import type { PlayableVideo } from '../../generations/playable-video';

/** Input fields whose values the domain spells differently from the GraphQL enum a client sends. */
const ENUM_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'input.aspectRatio': AspectRatio,
  'input.resolution': Resolution,
  'input.personGeneration': PersonGeneration,
  'input.provider': UpstreamProvider,
};

/** A BAD_USER_INPUT's `allowedValues` as GraphQL enum names (`LANDSCAPE_16_9`, not `16:9`): what a client can send. */
function inClientSpelling(error: unknown): unknown {
  if (!(error instanceof GatewayError) || error.code !== ErrorCode.BAD_USER_INPUT) return error;
  const enumObject = ENUM_FIELDS[String(error.details.field)];
  const allowed = error.details.allowedValues;
  if (!enumObject || !Array.isArray(allowed)) return error;
  const names = allowed.map((v: unknown) => Object.entries(enumObject).find(([, value]) => value === v)?.[0] ?? v);
  return new GatewayError(error.code, error.message, { ...error.details, allowedValues: names });
}

/** Resolvers receive and return domain `Generation`s; the field resolvers below derive the rest. */
@Resolver(() => VideoGeneration)
export class VideoGenerationResolver {
  @Query(() => VideoGeneration, {
    nullable: true,
    description: "One of your generations. Another owner's id is NOT_FOUND, exactly like an unknown one.",
  })
  async videoGeneration(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Generation> {
    const owner = requireOwner(ctx);
    const [generation] = await ctx.service.getMany(owner, [id]);
    if (!generation) throw notFound();
    return generation;
  }

  @Query(() => VideoGenerationConnection, { description: 'Your generations, newest first.' })
  async videoGenerations(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 20, description: 'Page size, at most 100.' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'The `endCursor` of the previous page.' }) after?: string | null,
    @Arg('filter', () => VideoGenerationFilter, { nullable: true }) filter?: VideoGenerationFilter | null,
  ) {
    const owner = requireOwner(ctx);
    const page = await ctx.service.list(owner, {
      first,
      after,
      statuses: filter?.status,
      models: filter?.model,
    });
    const last = page.generations.at(-1);
    return {
      // A getter: cursors are encoded only when a client selects `edges` (most ask for `nodes`).
      get edges() {
        return page.generations.map((node) => ({ node, cursor: encodeCursor(node) }));
      },
      nodes: page.generations,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: last ? encodeCursor(last) : null },
    };
  }

  @Mutation(() => VideoGeneration, {
    description:
      "Starts a generation: validated against the model first, sent upstream once, then followed by the gateway until it ends. If the upstream's answer to the create call is lost, the generation is FAILED with CREATE_OUTCOME_UNKNOWN rather than sent twice.",
  })
  async createVideoGeneration(
    @Arg('input', () => CreateVideoGenerationInput) input: CreateVideoGenerationInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Generation> {
    const owner = requireOwner(ctx);
    const { idempotencyKey, webhook: webhookInput, ...rest } = input;
    // Copy only the fields that were set, into a plain object the domain owns.
    const domainInput = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== null)) as unknown as GenerationInput;
    try {
      const webhook = webhookInput ? await ctx.webhooks.generations.check(owner, webhookInput, 'input.webhook') : null;
      return await ctx.service.create(owner, domainInput, idempotencyKey, webhook);
    } catch (error) {
      throw inClientSpelling(error);
    }
  }

  @Mutation(() => VideoGeneration, {
    description:
      'Stops following a generation (status CANCELLED). The upstream has no cancel call: its job is NOT stopped and may still be charged. Cancelling an ended generation returns it unchanged.',
  })
  async cancelVideoGeneration(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Generation> {
    return ctx.service.cancel(requireOwner(ctx), id);
  }

  @Mutation(() => ID, {
    description:
      "Deletes one of your ended generations and the gateway's stored copy of its video, at once; returns its id. Usage (`usage`) keeps counting what it was paid for. One still QUEUED or GENERATING is refused with GENERATION_IN_FLIGHT (cancel it first); an unknown id, or another owner's, is NOT_FOUND.",
  })
  async deleteVideoGeneration(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    await ctx.service.delete(requireOwner(ctx), id);
    return id;
  }

  @Subscription(() => VideoGeneration, {
    description: 'The generation now, then every change in order (no gaps, no repeats; `version` increases), completing after a terminal status.',
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const owner = requireOwner(ctx);
      // Fail the subscribe itself for an unknown id, rather than completing silently.
      const { id } = args as { id: string };
      if (!(await ctx.service.getMany(owner, [id]))[0]) throw notFound();
      return ctx.service.watch(owner, id);
    },
  })
  videoGenerationUpdated(@Root() generation: Generation, @Arg('id', () => ID) _id: string): Generation {
    return generation;
  }

  @Subscription(() => VideoGeneration, {
    description: 'Every change to any of your generations from now on, optionally only those reaching given statuses.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.service.watchOwner(requireOwner(ctx), (args as { status?: GenerationStatus[] | null }).status ?? undefined);
    },
  })
  videoGenerationsUpdated(
    @Root() generation: Generation,
    @Arg('status', () => [GenerationStatus], { nullable: true }) _status?: GenerationStatus[] | null,
  ): Generation {
    return generation;
  }

  @FieldResolver()
  model(@Root() g: Generation): string {
    return g.input.model;
  }

  @FieldResolver()
  prompt(@Root() g: Generation): string | null {
    return g.input.prompt ?? null;
  }

  @FieldResolver()
  settings(@Root() g: Generation): GenerationSettings {
    const { model: _model, prompt: _prompt, ...settings } = g.input;
    // Rows stored before the provider became `native` for every maker say `google`.
    if ((settings.provider as string | undefined) === 'google') return { ...settings, provider: 'native' };
    return settings;
  }

  @FieldResolver(() => Video, { nullable: true })
  video(@Root() g: Generation, @Ctx() ctx: GraphQLContext): PlayableVideo | null {
    return ctx.service.video(g);
  }

  @FieldResolver()
  progress(@Root() g: Generation, @Ctx() ctx: GraphQLContext): number | null {
    return this.estimate(g, ctx).progress;
  }

  @FieldResolver()
  etaSeconds(@Root() g: Generation, @Ctx() ctx: GraphQLContext): number | null {
    return this.estimate(g, ctx).etaSeconds;
  }

  @FieldResolver()
  estimatedCompletionAt(@Root() g: Generation, @Ctx() ctx: GraphQLContext): Date | null {
    return this.estimate(g, ctx).estimatedCompletionAt;
  }

  @FieldResolver()
  etaLowSeconds(@Root() g: Generation, @Ctx() ctx: GraphQLContext): number | null {
    return this.estimate(g, ctx).etaLowSeconds;
  }

  @FieldResolver()
  etaHighSeconds(@Root() g: Generation, @Ctx() ctx: GraphQLContext): number | null {
    return this.estimate(g, ctx).etaHighSeconds;
  }

  @FieldResolver()
  etaSampleCount(@Root() g: Generation, @Ctx() ctx: GraphQLContext): number {
    return this.estimate(g, ctx).sampleCount;
  }

  @FieldResolver()
  etaFromCatalogue(@Root() g: Generation, @Ctx() ctx: GraphQLContext): boolean {
    return this.estimate(g, ctx).fromCatalogue;
  }

  private estimate(g: Generation, ctx: GraphQLContext) {
    return ctx.service.estimate(g);
  }
}
