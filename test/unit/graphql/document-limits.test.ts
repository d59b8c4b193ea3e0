import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { DOCUMENT_LIMITS, checkWebSocketDocument, webSocketDocumentCache } from '../../../src/graphql/document-limits';
import { DEFAULT_REQUEST_LIMITS } from '../../../src/graphql/request-limits';

const schema = buildSchema(readFileSync(path.join(__dirname, '../../../schema/schema.graphql'), 'utf8'));

describe('checkWebSocketDocument', () => {
  // Run first in this file, before anything builds the Apollo protection: the WebSocket rules must
  // report violations on their own, not depend on armor's Apollo wiring having run.
  it.each([
    ['depth', `subscription { videoGenerationsUpdated { settings { a { b { c { d { e { f { g { h } } } } } } } } } }`, /depth/i],
    [
      'aliases',
      `subscription { videoGenerationsUpdated { ${Array.from({ length: DOCUMENT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: id`).join(' ')} } }`,
      /alias/i,
    ],
    [
      'directives',
      `subscription { videoGenerationsUpdated { ${Array.from({ length: DOCUMENT_LIMITS.maxDirectives + 1 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`,
      /directive/i,
    ],
    [
      'cost',
      `{ videoGenerations(first: 100) { edges { cursor node { id prompt status version progress etaSeconds createdAt updatedAt settings { seed imageUrl aspectRatio resolution durationSeconds } transitions { status at } } } } }`,
      /cost/i,
    ],
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

  it('remembers documents within a byte budget that counts their source text', () => {
    // A schema of its own, so this cache is created here, with a 64 KiB budget.
    const fresh = buildSchema('type Query { hello: String }');
    const budget = 64 * 1024;
    const options = { documentCacheBytes: budget, limits: DEFAULT_REQUEST_LIMITS };
    const first = checkWebSocketDocument(fresh, '{ hello }', false, options);
    // Tiny queries behind a 4 KiB comment: under the token limit, but each keeps its comment alive.
    for (let i = 0; i < 100; i++) checkWebSocketDocument(fresh, `{ a${i}: hello } # ${'x'.repeat(4_096)}`, false, options);
    const cache = webSocketDocumentCache(fresh)!;
    expect(cache.bytes).toBeLessThanOrEqual(budget);
    // Charged at least for the comments they hold (8 KiB of UTF-16 each), not for their few tokens.
    expect(cache.bytes).toBeGreaterThanOrEqual(cache.size * 8 * 1024);
    expect(cache.size).toBeLessThan(10);
    const again = checkWebSocketDocument(fresh, '{ hello }', false, options);
    expect('document' in first && 'document' in again && again.document !== first.document).toBe(true);
  });
});
