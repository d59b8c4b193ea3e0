/**
 * Cross-owner access (reliability-security.md §4.6, T1–T7), driven by the schema: a walk of the
 * committed schema finds every operation that takes an id and every path that reaches a
 * VideoGeneration, and each must have an owner-scoping probe below. A new query, mutation,
 * subscription or nested field of that kind fails the first test until someone writes its probe.
 *
 * Each probe is bob trying to reach alice's generation (or her webhook endpoint); he must get
 * NOT_FOUND or see nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import type { Client } from 'graphql-ws';
import {
  CREATE,
  GET,
  WATCH,
  WATCH_ALL,
  collect,
  gql,
  gqlData,
  sleep,
  startGateway,
  waitFor,
  within,
  wsClient,
  type TestGateway,
} from '../helpers/gateway';
import { httpSubscriber, subscriptionErrorCodes, type HttpTransport } from '../helpers/http-subscriptions';
import { expectCanaryAbsent, expectHealthy, recordSeen } from '../helpers/probes';
import { webhookEndpointRecord } from '../helpers/webhook-endpoint-record';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const GENERATION_TYPE = 'VideoGeneration';

/** True when an input type is, or contains (through input objects and lists), an `ID`. */
function carriesId(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (named.name === 'ID') return true;
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((f) => carriesId(f.type, seen));
}

/**
 * Every field coordinate a client can use to reach a generation: root fields that take an id or
 * whose result reaches `VideoGeneration`, and fields anywhere below them that take an id.
 */
function ownerSensitivePaths(schema: GraphQLSchema): string[] {
  const found = new Set<string>();
  const takesId = (args: readonly GraphQLArgument[]) => args.some((a) => carriesId(a.type));

  /** Walks the output types below `type`; returns whether it reaches a generation. */
  const walk = (type: GraphQLNamedType, visiting: Set<string>): boolean => {
    if (type.name === GENERATION_TYPE) return true;
    if (visiting.has(type.name)) return false;
    visiting.add(type.name);
    let reaches = false;
    const members = isUnionType(type) ? type.getTypes() : isInterfaceType(type) ? schema.getPossibleTypes(type) : [];
    for (const member of members) reaches = walk(member, visiting) || reaches;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (takesId(field.args)) found.add(`${type.name}.${field.name}`);
        reaches = walk(getNamedType(field.type), visiting) || reaches;
      }
    }
    visiting.delete(type.name);
    return reaches;
  };

  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      const reaches = walk(getNamedType(field.type), new Set([root.name]));
      if (reaches || takesId(field.args)) found.add(`${root.name}.${field.name}`);
    }
  }
  // Fields inside the generation type itself (reached from every root above).
  const generation = schema.getType(GENERATION_TYPE);
  if (generation && isObjectType(generation)) {
    for (const field of Object.values(generation.getFields())) {
      if (takesId(field.args)) found.add(`${GENERATION_TYPE}.${field.name}`);
    }
  }
  return [...found].sort();
}

const CANCEL = `mutation Cancel($id: ID!) { cancelVideoGeneration(id: $id) { id status } }`;
const LIST = `query List($after: String) {
  videoGenerations(first: 100, after: $after) { nodes { id } edges { cursor node { id } } pageInfo { endCursor } }
}`;

const ENDPOINT = 'id url enabled events';

/** Alice's webhook endpoint, written to the store: this gateway's URL policy admits no reachable test host. */
async function aliceEndpoint(gw: TestGateway, id: string): Promise<string> {
  await gw.app.store.insertWebhookEndpoint(
    webhookEndpointRecord({ id, owner: 'alice', url: 'https://alice-hooks.example.com/', description: 'alice private hook' }),
    100,
  );
  return id;
}

/** Alice's endpoint, as she sees it: unchanged by whatever bob tried. */
async function expectAliceEndpointIntact(gw: TestGateway, alice: string, id: string): Promise<void> {
  const mine = await gqlData(gw, alice, `query E($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT} } }`, { id });
  expect(mine.webhookEndpoint).toEqual({ id, url: 'https://alice-hooks.example.com/', enabled: true, events: null });
}

interface Owners {
  gw: TestGateway;
  alice: string;
  bob: string;
  /** Alice's generation, still in flight. */
  aliceGen: { id: string };
  clients: Client[];
}

const expectNotFound = (res: Awaited<ReturnType<typeof gql>>) => {
  recordSeen(res.text);
  expect(res.status).toBe(200);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect(res.text).not.toContain('alice');
};

/** One probe per owner-sensitive path: bob against alice's generation. */
const PROBES: Record<string, (o: Owners) => Promise<void>> = {
  'Query.videoGeneration': async ({ gw, bob, aliceGen }) => {
    const res = await gql(gw, bob, GET, { id: aliceGen.id });
    expectNotFound(res);
    expect(res.body.data?.videoGeneration ?? null).toBeNull();
  },

  'Query.videoGenerations': async ({ gw, alice, bob, aliceGen }) => {
    const own = await gqlData(gw, bob, LIST, {});
    const ids = (d: any) => [...d.videoGenerations.nodes, ...d.videoGenerations.edges.map((e: any) => e.node)].map((n: any) => n.id);
    expect(ids(own)).not.toContain(aliceGen.id);
    // Paging with one of alice's cursors shows bob nothing of hers.
    const aliceCursor = (await gqlData(gw, alice, LIST, {})).videoGenerations.edges[0].cursor as string;
    const paged = await gql(gw, bob, LIST, { after: aliceCursor });
    recordSeen(paged.text);
    expect(paged.status).toBeLessThan(500);
    if (paged.body.data) expect(ids(paged.body.data)).not.toContain(aliceGen.id);
  },

  'Mutation.cancelVideoGeneration': async ({ gw, alice, bob, aliceGen }) => {
    const res = await gql(gw, bob, CANCEL, { id: aliceGen.id });
    expectNotFound(res);
    const after = (await gqlData(gw, alice, GET, { id: aliceGen.id })).videoGeneration;
    expect(['QUEUED', 'GENERATING']).toContain(after.status);
  },

  'Mutation.deleteVideoGeneration': async ({ gw, alice, bob, aliceGen }) => {
    // NOT_FOUND, never GENERATION_IN_FLIGHT: that code would tell bob that alice's running generation exists.
    expectNotFound(await gql(gw, bob, `mutation D($id: ID!) { deleteVideoGeneration(id: $id) }`, { id: aliceGen.id }));
    const after = (await gqlData(gw, alice, GET, { id: aliceGen.id })).videoGeneration;
    expect(after.id).toBe(aliceGen.id);
  },

  'Mutation.createVideoGeneration': async ({ gw, alice, bob }) => {
    // The only way a create could reach an existing generation is its idempotency key: scoped per owner.
    const input = { model: 'google/veo-3.0-fast', prompt: 'same key, two owners', idempotencyKey: 'shared-key-1' };
    const hers = (await gqlData(gw, alice, CREATE, { input })).createVideoGeneration;
    const his = (await gqlData(gw, bob, CREATE, { input })).createVideoGeneration;
    expect(his.id).not.toBe(hers.id);
    expect((await gql(gw, bob, GET, { id: hers.id })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  },

  'Subscription.videoGenerationUpdated': async ({ gw, bob, aliceGen, clients }) => {
    const frames: string[] = [];
    const client = wsClient(gw, bob, { frames });
    clients.push(client);
    const sub = collect(client, WATCH, { id: aliceGen.id });
    await sub.done;
    recordSeen(...frames);
    expect(sub.values).toEqual([]);
    expect((sub.errors[0] as { extensions?: { code?: string } }).extensions?.code).toBe('NOT_FOUND');
    expect(frames.join('\n')).not.toContain('alice');
  },

  'Query.webhookEndpoint': async ({ gw, alice, bob }) => {
    const id = await aliceEndpoint(gw, 'whe_alice_read');
    const res = await gql(gw, bob, `query E($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT} } }`, { id });
    expectNotFound(res);
    const list = await gql(gw, bob, `query { webhookEndpoints { ${ENDPOINT} } }`);
    recordSeen(list.text);
    expect(list.body.data?.webhookEndpoints).toEqual([]);
    await expectAliceEndpointIntact(gw, alice, id);
  },

  'Mutation.updateWebhookEndpoint': async ({ gw, alice, bob }) => {
    const id = await aliceEndpoint(gw, 'whe_alice_update');
    const update = `mutation U($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { ${ENDPOINT} } }`;
    expectNotFound(await gql(gw, bob, update, { id, input: { enabled: false, events: ['GENERATION_FAILED'] } }));
    await expectAliceEndpointIntact(gw, alice, id);
  },

  'Mutation.rotateWebhookEndpointSecret': async ({ gw, bob }) => {
    const id = await aliceEndpoint(gw, 'whe_alice_rotate');
    const res = await gql(gw, bob, `mutation R($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret } }`, { id });
    expectNotFound(res);
    expect(res.text).not.toContain('whsec_');
    const stored = await gw.app.store.getWebhookEndpoint('alice', id);
    expect(stored?.secret).toBe('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(stored?.previousSecret).toBeNull();
  },

  'Mutation.deleteWebhookEndpoint': async ({ gw, alice, bob }) => {
    const id = await aliceEndpoint(gw, 'whe_alice_delete');
    expectNotFound(await gql(gw, bob, `mutation D($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id }));
    await expectAliceEndpointIntact(gw, alice, id);
  },

  'Query.webhookDeliveries': async ({ gw, bob, aliceGen }) => {
    const id = await aliceEndpoint(gw, 'whe_alice_deliveries');
    const deliveries = `query W($endpointId: ID, $generationId: ID) { webhookDeliveries(endpointId: $endpointId, generationId: $generationId) { id messageId } }`;
    expectNotFound(await gql(gw, bob, deliveries, { endpointId: id }));
    const byGeneration = await gql(gw, bob, deliveries, { generationId: aliceGen.id });
    recordSeen(byGeneration.text);
    expect(byGeneration.body.data?.webhookDeliveries).toEqual([]);
  },

  'Mutation.redeliverWebhook': async ({ gw, alice, bob }) => {
    const id = await aliceEndpoint(gw, 'whe_alice_redeliver');
    // Alice's own generation reaching a new status queues a delivery to her endpoint.
    const created = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'alice redelivered clip' } }))
      .createVideoGeneration;
    await gqlData(gw, alice, CANCEL, { id: created.id });
    const [delivery] = await gw.app.store.listWebhookDeliveries({ owner: 'alice', endpointId: id, limit: 1 });
    const res = await gql(gw, bob, `mutation R($id: ID!) { redeliverWebhook(id: $id) { id status } }`, { id: delivery!.id });
    expectNotFound(res);
  },

  'Subscription.videoGenerationsUpdated': async ({ gw, alice, bob, clients }) => {
    const bobFrames: string[] = [];
    const bobClient = wsClient(gw, bob, { frames: bobFrames });
    const aliceClient = wsClient(gw, alice);
    clients.push(bobClient, aliceClient);
    const active = async () => (await gw.app.metrics.subscriptions.get()).values[0]?.value ?? 0;
    const base = await active();
    const bobAll = collect(bobClient, WATCH_ALL);
    const aliceAll = collect(aliceClient, WATCH_ALL);
    await waitFor('both subscriptions', async () => (await active()) >= base + 2);
    const created = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'alice watched clip' } }))
      .createVideoGeneration;
    await gqlData(gw, alice, CANCEL, { id: created.id });
    await waitFor('alice to see her cancellation', () =>
      aliceAll.values.some((v) => v.videoGenerationsUpdated.id === created.id && v.videoGenerationsUpdated.status === 'CANCELLED'),
    );
    await sleep(100); // room for a wrongly routed event to arrive
    recordSeen(...bobFrames);
    expect(bobAll.values).toEqual([]);
    expect(bobAll.errors).toEqual([]);
    bobAll.unsubscribe();
    aliceAll.unsubscribe();
  },
};

/**
 * The subscription probes again over each HTTP transport (SSE, multipart): the same resolvers, but
 * a transport that skipped a check would show here.
 */
const HTTP_SUBSCRIPTION_PROBES: Record<string, (o: Owners, transport: HttpTransport) => Promise<void>> = {
  'Subscription.videoGenerationUpdated': async ({ gw, bob, aliceGen }, transport) => {
    const sub = httpSubscriber[transport](gw, bob, WATCH, { id: aliceGen.id });
    await within('the refusal', sub.done, 5_000);
    const seen = JSON.stringify(sub.errors);
    recordSeen(seen);
    expect(sub.values).toEqual([]);
    expect(subscriptionErrorCodes(sub.errors)).toEqual(['NOT_FOUND']);
    expect(seen).not.toContain('alice');
  },

  'Subscription.videoGenerationsUpdated': async ({ gw, alice, bob }, transport) => {
    const active = async () => (await gw.app.metrics.subscriptions.get()).values[0]?.value ?? 0;
    const base = await active();
    const bobAll = httpSubscriber[transport](gw, bob, WATCH_ALL);
    const aliceAll = httpSubscriber[transport](gw, alice, WATCH_ALL);
    try {
      await waitFor('both subscriptions', async () => (await active()) >= base + 2);
      const created = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: `alice watched over ${transport}` } }))
        .createVideoGeneration;
      await gqlData(gw, alice, CANCEL, { id: created.id });
      await waitFor('alice to see her cancellation', () =>
        aliceAll.values.some((v) => v.videoGenerationsUpdated.id === created.id && v.videoGenerationsUpdated.status === 'CANCELLED'),
      );
      await sleep(100); // room for a wrongly routed event to arrive
      recordSeen(JSON.stringify(bobAll.values));
      expect(bobAll.values).toEqual([]);
      expect(bobAll.errors).toEqual([]);
    } finally {
      bobAll.unsubscribe();
      aliceAll.unsubscribe();
    }
  },
};

describe('owner scoping of every path to a generation', () => {
  const schema = buildSchema(readFileSync(path.join(__dirname, '../../schema/schema.graphql'), 'utf8'));
  const owners = {} as Owners;

  beforeAll(async () => {
    // Real-world time scale: alice's generation stays in flight for the whole file.
    owners.gw = await startGateway({ timeScale: 1 });
    owners.alice = await owners.gw.keyFor('alice');
    owners.bob = await owners.gw.keyFor('bob');
    owners.clients = [];
    owners.aliceGen = (
      await gqlData(owners.gw, owners.alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'alice private clip' } })
    ).createVideoGeneration;
  }, START_TIMEOUT_MS);
  afterEach(async () => {
    await Promise.all(owners.clients.splice(0).map((c) => c.dispose()));
    await expectHealthy(owners.gw);
  });
  afterAll(async () => {
    await expectCanaryAbsent(owners.gw);
    await owners.gw?.stop();
  });

  it('should have an owner-scoping probe for every path that takes an id or reaches a generation', () => {
    const paths = ownerSensitivePaths(schema);
    // The walk itself finds what we know is there.
    expect(paths).toEqual(expect.arrayContaining(['Query.videoGeneration', 'Subscription.videoGenerationUpdated']));
    expect(paths).toEqual(Object.keys(PROBES).sort());
  });

  it('should notice a new path: a root field returning a generation, or a nested field taking an id', () => {
    const extended = buildSchema(`${readFileSync(path.join(__dirname, '../../schema/schema.graphql'), 'utf8')}
      input Lookup { generationId: ID }
      extend type Query { latestGeneration: VideoGenerationEdge  lookup(where: Lookup): Boolean }
      extend type VideoModel { exampleGeneration(id: ID!): String }`);
    expect(ownerSensitivePaths(extended)).toEqual(
      [...Object.keys(PROBES), 'Query.latestGeneration', 'Query.lookup', 'VideoModel.exampleGeneration'].sort(),
    );
  });

  it.each(Object.keys(PROBES))('should keep %s to its owner', async (coordinate) => {
    await PROBES[coordinate]!(owners);
  });

  it('should have a probe over every HTTP transport for every subscription path', () => {
    expect(Object.keys(HTTP_SUBSCRIPTION_PROBES).sort()).toEqual(ownerSensitivePaths(schema).filter((p) => p.startsWith('Subscription.')));
  });

  it.each(Object.keys(HTTP_SUBSCRIPTION_PROBES).flatMap((c) => (['sse', 'multipart'] as const).map((t) => [c, t] as const)))(
    'should keep %s to its owner over %s',
    async (coordinate, transport) => {
      await HTTP_SUBSCRIPTION_PROBES[coordinate]!(owners, transport);
    },
  );
});
