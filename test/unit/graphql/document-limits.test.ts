import { buildSchema } from 'graphql';
import { checkWebSocketDocument } from '../../../src/graphql/document-limits';

const schema = buildSchema(`
  type Query { hello: String }
  type Subscription { ticks(id: ID!): Int }
`);
const TICKS = 'subscription T($id: ID!) { ticks(id: $id) }';

describe('checkWebSocketDocument', () => {
  it('gives every client of one query the same parsed document', () => {
    const a = checkWebSocketDocument(schema, TICKS, false);
    const b = checkWebSocketDocument(schema, TICKS, false);
    expect('document' in a && 'document' in b).toBe(true);
    if ('document' in a && 'document' in b) expect(b.document).toBe(a.document);
  });

  it('checks again whenever the introspection setting or the schema differs', () => {
    const query = '{ __schema { queryType { name } } }';
    expect(checkWebSocketDocument(schema, query, true)).toHaveProperty('document');
    expect(checkWebSocketDocument(schema, query, false)).toHaveProperty('errors');
    const other = buildSchema('type Query { bye: String }');
    expect(checkWebSocketDocument(schema, '{ hello }', false)).toHaveProperty('document');
    expect(checkWebSocketDocument(other, '{ hello }', false)).toHaveProperty('errors');
  });

  it('rejects an invalid document every time, with the same typed error', () => {
    for (let i = 0; i < 2; i++) {
      const r = checkWebSocketDocument(schema, 'subscription { nope }', false);
      expect('errors' in r && r.errors.map((e) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const p = checkWebSocketDocument(schema, 'subscription {', false);
      expect('errors' in p && p.errors.map((e) => e.extensions.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    }
  });

  it('remembers a bounded number of documents', () => {
    const first = checkWebSocketDocument(schema, '{ hello }', false);
    for (let i = 0; i < 600; i++) checkWebSocketDocument(schema, `{ a${i}: hello }`, false);
    const again = checkWebSocketDocument(schema, '{ hello }', false);
    expect('document' in first && 'document' in again && again.document !== first.document).toBe(true);
  });
});
