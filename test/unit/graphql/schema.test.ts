import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema as parseSdl, GraphQLEnumType, GraphQLNonNull, type GraphQLSchema } from 'graphql';
import { GenerationEvents } from '../../../src/generations/events';
import { printGatewaySchema } from '../../../src/graphql/print-schema';
import { MODELS } from '../../../src/upstream/models';

const SCHEMA_FILE = path.resolve(__dirname, '../../../schema/schema.graphql');

let printed: string;
let schema: GraphQLSchema;

beforeAll(async () => {
  printed = await printGatewaySchema(new GenerationEvents());
  schema = parseSdl(printed);
});

describe('GraphQL schema', () => {
  it('equals the committed schema/schema.graphql', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (printed !== committed) throw new Error('schema/schema.graphql is stale: run npm run schema');
  });

  it('has the operations the product promises', () => {
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual(['usage', 'videoGeneration', 'videoGenerations', 'videoModels']);
    expect(Object.keys(schema.getMutationType()!.getFields()).sort()).toEqual(['cancelVideoGeneration', 'createVideoGeneration']);
    expect(Object.keys(schema.getSubscriptionType()!.getFields()).sort()).toEqual([
      'videoGenerationUpdated',
      'videoGenerationsUpdated',
    ]);
  });

  it('takes the arguments clients rely on', () => {
    const mutation = schema.getMutationType()!.getFields();
    expect(String(mutation['createVideoGeneration']!.args.find((a) => a.name === 'input')!.type)).toBe('CreateVideoGenerationInput!');
    expect(String(mutation['cancelVideoGeneration']!.args.find((a) => a.name === 'id')!.type)).toBe('ID!');
    expect(String(mutation['createVideoGeneration']!.type)).toBe('VideoGeneration!');
    const sub = schema.getSubscriptionType()!.getFields();
    expect(String(sub['videoGenerationUpdated']!.args[0]!.type)).toBe('ID!');
    const query = schema.getQueryType()!.getFields();
    expect(String(query['videoModels']!.type)).toBe('[VideoModel!]!');
    expect(query['videoGenerations']!.args.map((a) => a.name).sort()).toEqual(['after', 'filter', 'first']);
  });

  it('the VideoModelId enum has exactly the catalogue graphqlNames', () => {
    const e = schema.getType('VideoModelId');
    expect(e).toBeInstanceOf(GraphQLEnumType);
    expect((e as GraphQLEnumType).getValues().map((v) => v.name).sort()).toEqual(MODELS.map((m) => m.graphqlName).sort());
  });

  it('has every generation status and the create input names the model and prompt as required', () => {
    const status = schema.getType('GenerationStatus') as GraphQLEnumType;
    expect(status.getValues().map((v) => v.name).sort()).toEqual(['CANCELLED', 'COMPLETED', 'FAILED', 'GENERATING', 'QUEUED', 'TIMED_OUT']);
    const input = schema.getType('CreateVideoGenerationInput') as unknown as { getFields(): Record<string, { type: unknown }> };
    const fields = input.getFields();
    expect(fields['model']!.type).toBeInstanceOf(GraphQLNonNull);
    expect(fields['prompt']!.type).toBeInstanceOf(GraphQLNonNull);
    for (const [name, field] of Object.entries(fields)) {
      if (name !== 'model' && name !== 'prompt') expect({ name, nonNull: field.type instanceof GraphQLNonNull }).toEqual({ name, nonNull: false });
    }
  });

  it('is printed sorted, with the generated-file banner', () => {
    expect(printed.startsWith('# Generated from the resolvers by `npm run schema`. Do not edit by hand.\n\n')).toBe(true);
    expect(printed.endsWith('}\n')).toBe(true);
  });
});
