/**
 * The schema's ModelKind and MediaKind enums are built from the catalogue's lists: a client sends
 * and reads their GraphQL names, resolvers see the catalogue's spelling.
 */
import { graphql, type GraphQLSchema } from 'graphql';
import { buildGatewaySchema } from '../../../src/graphql/schema';
import { MEDIA_KINDS, MODEL_KINDS } from '../../../src/upstream/catalogue-types';
import { MODELS } from '../../../src/upstream/models';

let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildGatewaySchema();
});

type Model = { id: string; kind: string; kinds: string[]; inputs: { name: string; media: string | null }[] };

async function videoModels(args = ''): Promise<Model[]> {
  const result = await graphql({ schema, source: `{ videoModels${args} { id kind kinds inputs { name media } } }`, contextValue: {} });
  expect(result.errors).toBeUndefined();
  return (result.data as { videoModels: Model[] }).videoModels;
}

describe('catalogue enums', () => {
  it('serve every model kind and media kind under its GraphQL name', async () => {
    const models = await videoModels();
    expect(models).toHaveLength(MODELS.length);
    const kinds = new Set(models.flatMap((m) => m.kinds));
    expect([...kinds].sort()).toEqual([...MODEL_KINDS].sort());
    const media = new Set(models.flatMap((m) => m.inputs.map((i) => i.media)).filter((m) => m !== null));
    expect([...media].sort()).toEqual(MEDIA_KINDS.map((k) => k.toUpperCase()).sort());
    for (const m of models) expect(m.kind).toBe(m.kinds[0]);
  });

  it('filter by a kind sent as its GraphQL name', async () => {
    const models = await videoModels('(kind: AVATAR_LIP_SYNC)');
    expect(models.length).toBeGreaterThan(0);
    expect(models.length).toBeLessThan(MODELS.length);
    for (const m of models) expect(m.kinds).toContain('AVATAR_LIP_SYNC');
    const audio = models.flatMap((m) => m.inputs).find((i) => i.name === 'audioUrl');
    expect(audio?.media).toBe('AUDIO');
  });
});
