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
