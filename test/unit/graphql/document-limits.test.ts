import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { DOCUMENT_LIMITS, checkWebSocketDocument } from '../../../src/graphql/document-limits';

const schema = buildSchema(readFileSync(path.join(__dirname, '../../../schema/schema.graphql'), 'utf8'));

describe('checkWebSocketDocument', () => {
  // Run first in this file, before anything builds the Apollo protection: the WebSocket rules must
  // report violations on their own, not depend on armor's Apollo wiring having run.
  it.each([
    ['depth', `subscription { videoGenerationsUpdated { settings { a { b { c { d { e { f { g { h } } } } } } } } } }`, /depth/i],
    ['aliases', `subscription { videoGenerationsUpdated { ${Array.from({ length: DOCUMENT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: id`).join(' ')} } }`, /alias/i],
    ['directives', `subscription { videoGenerationsUpdated { ${Array.from({ length: DOCUMENT_LIMITS.maxDirectives + 1 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`, /directive/i],
    ['cost', `{ videoGenerations(first: 100) { edges { cursor node { id prompt status version progress etaSeconds createdAt updatedAt settings { seed imageUrl aspectRatio resolution durationSeconds } transitions { status at } } } } }`, /cost/i],
    ['tokens', `subscription { videoGenerationsUpdated { ${'id '.repeat(DOCUMENT_LIMITS.maxTokens)}} }`, /token/i],
  ])('should return errors, not throw, for a document over the %s limit', (_name, query, message) => {
    const result = checkWebSocketDocument(schema, query, true);
    expect('errors' in result).toBe(true);
    if ('errors' in result) expect(result.errors.map((e) => e.message).join('\n')).toMatch(message);
  });

  it('should accept a document within every limit', () => {
    expect('document' in checkWebSocketDocument(schema, 'subscription { videoGenerationsUpdated { id status } }', true)).toBe(true);
  });
});

const ticksSchema = buildSchema(`
  type Query { hello: String }
  type Subscription { ticks(id: ID!): Int }
`);
const TICKS = 'subscription T($id: ID!) { ticks(id: $id) }';

describe('checkWebSocketDocument cache', () => {
  it('gives every client of one query the same parsed document', () => {
    const a = checkWebSocketDocument(ticksSchema, TICKS, false);
    const b = checkWebSocketDocument(ticksSchema, TICKS, false);
    expect('document' in a && 'document' in b).toBe(true);
    if ('document' in a && 'document' in b) expect(b.document).toBe(a.document);
  });

  it('checks again whenever the introspection setting or the schema differs', () => {
    const query = '{ __schema { queryType { name } } }';
    expect(checkWebSocketDocument(ticksSchema, query, true)).toHaveProperty('document');
    expect(checkWebSocketDocument(ticksSchema, query, false)).toHaveProperty('errors');
    const other = buildSchema('type Query { bye: String }');
    expect(checkWebSocketDocument(ticksSchema, '{ hello }', false)).toHaveProperty('document');
    expect(checkWebSocketDocument(other, '{ hello }', false)).toHaveProperty('errors');
  });

  it('rejects an invalid document every time, with the same typed error', () => {
    for (let i = 0; i < 2; i++) {
      const r = checkWebSocketDocument(ticksSchema, 'subscription { nope }', false);
      expect('errors' in r && r.errors.map((e) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const p = checkWebSocketDocument(ticksSchema, 'subscription {', false);
      expect('errors' in p && p.errors.map((e) => e.extensions.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    }
  });

  it('remembers a bounded number of documents', () => {
    const first = checkWebSocketDocument(ticksSchema, '{ hello }', false);
    for (let i = 0; i < 600; i++) checkWebSocketDocument(ticksSchema, `{ a${i}: hello }`, false);
    const again = checkWebSocketDocument(ticksSchema, '{ hello }', false);
    expect('document' in first && 'document' in again && again.document !== first.document).toBe(true);
  });
});
