import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema as parseSdl, GraphQLEnumType, GraphQLNonNull, type GraphQLInputObjectType, type GraphQLSchema } from 'graphql';
import { printGatewaySchema } from '../../../src/graphql/print-schema';
import { AspectRatio, Resolution } from '../../../src/graphql/enums';
import { MODELS } from '../../../src/upstream/models';

const SCHEMA_FILE = path.resolve(__dirname, '../../../schema/schema.graphql');

let printed: string;
let schema: GraphQLSchema;

beforeAll(async () => {
  printed = await printGatewaySchema();
  schema = parseSdl(printed);
});

describe('GraphQL schema', () => {
  it('equals the committed schema/schema.graphql', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (printed !== committed) throw new Error('schema/schema.graphql is stale: run npm run schema');
  });

  it('has the operations the product promises', () => {
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual([
      'usage',
      'videoGeneration',
      'videoGenerations',
      'videoModels',
      'webhookDeliveries',
      'webhookEndpoint',
      'webhookEndpoints',
    ]);
    expect(Object.keys(schema.getMutationType()!.getFields()).sort()).toEqual([
      'cancelVideoGeneration',
      'createVideoGeneration',
      'createWebhookEndpoint',
      'deleteVideoGeneration',
      'deleteWebhookEndpoint',
      'redeliverWebhook',
      'rotateWebhookEndpointSecret',
      'rotateWebhookSigningSecret',
      'updateWebhookEndpoint',
    ]);
    expect(Object.keys(schema.getSubscriptionType()!.getFields()).sort()).toEqual(['videoGenerationUpdated', 'videoGenerationsUpdated']);
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

  it('names models by the vendor id (a String, as enum values cannot hold `/` and `.`), and has an enum value for every aspect ratio and resolution some model takes', () => {
    expect(schema.getType('VideoModelId')).toBeUndefined();
    const input = schema.getType('CreateVideoGenerationInput') as GraphQLInputObjectType;
    expect(String(input.getFields()['model']!.type)).toBe('String!');
    const names = (name: string) =>
      (schema.getType(name) as GraphQLEnumType)
        .getValues()
        .map((v) => v.name)
        .sort();
    expect(names('AspectRatio')).toEqual(Object.keys(AspectRatio).sort());
    expect(names('Resolution')).toEqual(Object.keys(Resolution).sort());
    for (const m of MODELS) {
      for (const i of m.inputs.filter((x) => x.shared && (x.name === 'aspectRatio' || x.name === 'resolution'))) {
        const enumObject: Record<string, string> = i.name === 'aspectRatio' ? AspectRatio : Resolution;
        for (const v of (i.schema['enum'] as string[] | undefined) ?? []) expect(Object.values(enumObject)).toContain(v);
      }
    }
    expect(AspectRatio['LANDSCAPE_16_9']).toBe('16:9');
    expect(Resolution['RES_4K']).toBe('4k');
  });

  it('has every generation status and the create input names only the model as required (not every model takes a prompt)', () => {
    const status = schema.getType('GenerationStatus') as GraphQLEnumType;
    expect(
      status
        .getValues()
        .map((v) => v.name)
        .sort(),
    ).toEqual(['CANCELLED', 'COMPLETED', 'FAILED', 'GENERATING', 'QUEUED', 'TIMED_OUT']);
    const input = schema.getType('CreateVideoGenerationInput') as unknown as { getFields(): Record<string, { type: unknown }> };
    const fields = input.getFields();
    expect(fields['model']!.type).toBeInstanceOf(GraphQLNonNull);
    for (const [name, field] of Object.entries(fields)) {
      if (name !== 'model') expect({ name, nonNull: field.type instanceof GraphQLNonNull }).toEqual({ name, nonNull: false });
    }
  });

  it('is printed sorted, with the generated-file banner', () => {
    expect(printed.startsWith('# Generated from the resolvers by `npm run schema`. Do not edit by hand.\n\n')).toBe(true);
    expect(printed.endsWith('}\n')).toBe(true);
  });
});
