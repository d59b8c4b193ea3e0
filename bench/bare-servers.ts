/**
 * The baselines: the same data behind the thinnest servers the libraries allow. A bare Apollo
 * Server 5 with plain graphql-js resolvers (HTTP), and a bare graphql-ws + graphql-js server whose
 * subscription emits the current state then every change of one generation (WebSocket).
 */
import { EventEmitter, on } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

/** The plain JSON shape of a generation, as the gateway returns it for `GENERATION_FIELDS`. */
export type PlainGeneration = Record<string, unknown> & { id: string; status: string; version: number };

/** What both servers are asked for, over HTTP and WebSocket. */
export const GENERATION_FIELDS =
  'id model prompt status upstreamStatus version progress etaSeconds createdAt updatedAt completedAt video { url contentType fileName sizeBytes } usage { credits usd } transitions { status at }';

const SDL = `
  type Video { url: String! contentType: String fileName: String sizeBytes: Float }
  type Usage { credits: Float usd: Float }
  type StatusTransition { status: String! at: String! }
  type VideoGeneration {
    id: ID! model: String! prompt: String! status: String! upstreamStatus: String version: Int!
    progress: Float etaSeconds: Int createdAt: String! updatedAt: String! completedAt: String
    video: Video usage: Usage transitions: [StatusTransition!]!
  }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type VideoGenerationConnection { nodes: [VideoGeneration!]! pageInfo: PageInfo! }
  type Query {
    videoGeneration(id: ID!): VideoGeneration
    videoGenerations(first: Int! = 20): VideoGenerationConnection!
  }
  type Subscription { videoGenerationUpdated(id: ID!): VideoGeneration! }
`;

export class BareData {
  readonly byId = new Map<string, PlainGeneration>();
  readonly newestFirst: PlainGeneration[];
  readonly changes = new EventEmitter();

  constructor(generations: readonly PlainGeneration[]) {
    for (const g of generations) this.byId.set(g.id, g);
    this.newestFirst = [...generations];
    this.changes.setMaxListeners(0);
  }

  publish(g: PlainGeneration): void {
    this.byId.set(g.id, g);
    this.changes.emit(g.id, g);
  }
}

export function bareSchema(data: BareData): GraphQLSchema {
  const schema = buildSchema(SDL);
  const query = schema.getQueryType()!.getFields();
  query.videoGeneration!.resolve = (_root, args: { id: string }) => data.byId.get(args.id) ?? null;
  query.videoGenerations!.resolve = (_root, args: { first: number }) => {
    const nodes = data.newestFirst.slice(0, args.first);
    return { nodes, pageInfo: { hasNextPage: data.newestFirst.length > nodes.length, endCursor: nodes.at(-1)?.id ?? null } };
  };
  const subscription = schema.getSubscriptionType()!.getFields().videoGenerationUpdated!;
  subscription.subscribe = async function* (_root, args: { id: string }) {
    const current = data.byId.get(args.id);
    if (current) yield current;
    for await (const [g] of on(data.changes, args.id) as AsyncIterable<[PlainGeneration]>) {
      yield g;
      if (g.status !== 'QUEUED' && g.status !== 'GENERATING') return;
    }
  };
  subscription.resolve = (payload: PlainGeneration) => payload;
  return schema;
}

export async function startBareApollo(data: BareData): Promise<{ url: string; stop: () => Promise<void> }> {
  const apollo = new ApolloServer({ schema: bareSchema(data) });
  const { url } = await startStandaloneServer(apollo, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, stop: () => apollo.stop() };
}

export async function startBareWebSocket(data: BareData): Promise<{ wsUrl: string; stop: () => Promise<void> }> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
  const cleanup = useServer({ schema: bareSchema(data) }, wss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    stop: async () => {
      await cleanup.dispose();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
