import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { buildSchema, parse, validate } from 'graphql';
import { DocumentCache, documentBytes } from '../../../src/graphql/document-cache';
import {
  DEFAULT_REQUEST_LIMITS,
  documentTooLarge,
  jsonDeeperThan,
  jsonShapeProblem,
  maxListItemsRule,
  variablesOutOfBounds,
} from '../../../src/graphql/request-limits';

const limits = { maxDocumentBytes: 1_000, maxVariablesDepth: 4, maxListItems: 5 };

describe('documentTooLarge', () => {
  it('counts UTF-8 bytes, comments included', () => {
    expect(documentTooLarge('{ a }', limits)).toBeNull();
    expect(documentTooLarge(`{ a } # ${'x'.repeat(992)}`, limits)).toBeNull(); // exactly 1 000 bytes
    const refused = documentTooLarge(`{ a } # ${'x'.repeat(993)}`, limits);
    expect(refused?.extensions).toEqual({ code: 'DOCUMENT_TOO_LARGE', limit: 1_000 });
    // 401 characters, but 1 003 bytes.
    expect(documentTooLarge('é'.repeat(200) + '€'.repeat(201), limits)?.extensions.code).toBe('DOCUMENT_TOO_LARGE');
    expect(documentTooLarge('é'.repeat(400), limits)).toBeNull();
    expect(documentTooLarge(undefined, limits)).toBeNull();
  });
});

describe('jsonDeeperThan', () => {
  it('counts arrays and objects, skipping brackets inside strings and escaped quotes', () => {
    expect(jsonDeeperThan('{"a":[[1]]}', 3)).toBe(false);
    expect(jsonDeeperThan('{"a":[[[1]]]}', 3)).toBe(true);
    expect(jsonDeeperThan(JSON.stringify({ a: '[[[[[[{{{{', b: '\\"[[[[[' }), 1)).toBe(false);
    expect(jsonDeeperThan('[]'.repeat(10_000), 1)).toBe(false);
  });

  it('finds 500 000 nested arrays (the finding) without parsing them', () => {
    expect(jsonDeeperThan(`{"variables":{"v":${'['.repeat(500_000)}${']'.repeat(500_000)}}}`, 17)).toBe(true);
  });
});

describe('variablesOutOfBounds', () => {
  it('refuses long lists and wide objects as BAD_USER_INPUT naming the variable path', () => {
    expect(variablesOutOfBounds({ filter: { status: ['QUEUED', 'FAILED'] } }, limits)).toBeNull();
    const list = variablesOutOfBounds({ filter: { status: Array(90_000).fill('QUEUED') } }, limits);
    expect(list?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'variables.filter.status', limit: 5 });
    const wide = variablesOutOfBounds({ input: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i])) }, limits);
    expect(wide?.extensions.field).toBe('variables.input');
  });

  it('refuses nesting deeper than the limit', () => {
    expect(variablesOutOfBounds({ a: { b: [1] } }, limits)).toBeNull(); // 3 levels
    expect(variablesOutOfBounds({ a: { b: [[1]] } }, limits)).toBeNull(); // 4
    expect(variablesOutOfBounds({ a: { b: [[[1]]] } }, limits)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables.a.b.0.0' });
  });
});

describe('maxListItemsRule', () => {
  it('refuses list literals over the limit', () => {
    const schema = buildSchema('type Query { f(ids: [ID!]): Int }');
    expect(validate(schema, parse('{ f(ids: [1, 2, 3, 4, 5]) }'), [maxListItemsRule(5)])).toEqual([]);
    const errors = validate(schema, parse('{ f(ids: [1, 2, 3, 4, 5, 6]) }'), [maxListItemsRule(5)]);
    expect(errors.map((e) => e.message)).toEqual(['A list literal has 6 items; at most 5 are accepted']);
  });
});

describe('DocumentCache', () => {
  const bigComment = (i: number) => parse(`{ a${i} } # ${'x'.repeat(900_000)}`);

  it("charges a document for the source it keeps, where Apollo's default store charges its JSON only", () => {
    const doc = bigComment(0);
    expect(InMemoryLRUCache.sizeCalculation(doc)).toBeLessThan(2_000);
    expect(documentBytes(doc)).toBeGreaterThan(1_800_000);
  });

  it('stays within its byte budget however many distinct documents it is given', async () => {
    const cache = new DocumentCache(4 * 1024 * 1024);
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, bigComment(i));
    expect(cache.bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(cache.size).toBe(2);
    expect(await cache.get('k19')).toBeDefined();
    expect(await cache.get('k0')).toBeUndefined();
  });

  it('keeps nothing with a budget of 0', async () => {
    const cache = new DocumentCache(0);
    await cache.set('k', parse('{ a }'));
    expect(await cache.get('k')).toBeUndefined();
  });

  it('uses safe defaults', () => {
    expect(DEFAULT_REQUEST_LIMITS).toEqual({ maxDocumentBytes: 32 * 1024, maxVariablesDepth: 16, maxListItems: 200 });
  });
});

describe('jsonShapeProblem', () => {
  it('names the first list or object with more entries than the limit, by its path from the root', () => {
    const body = (status: string[]) => JSON.stringify({ query: '{ a }', variables: { f: { status } } });
    expect(jsonShapeProblem(body(['A', 'B', 'C']), 17, 3)).toBeNull();
    expect(jsonShapeProblem(body(['A', 'B', 'C', 'D']), 17, 3)).toEqual({ kind: 'items', path: 'variables.f.status', limit: 3 });
    expect(jsonShapeProblem('{"variables":{"v":[[1,2],[3,4,5,6]]}}', 17, 3)).toEqual({ kind: 'items', path: 'variables.v.1', limit: 3 });
    expect(jsonShapeProblem('{"variables":{"v":[{"a":1,"b":2,"c":3,"d":4}]}}', 17, 3)).toEqual({ kind: 'items', path: 'variables.v.0', limit: 3 });
  });

  it('does not count commas, brackets or escaped quotes inside strings', () => {
    expect(jsonShapeProblem(JSON.stringify({ a: 'x,y,z,w,[q', b: 'say "hi", ok', c: [] }), 17, 3)).toBeNull();
    expect(jsonShapeProblem('{"a":"ends with a backslash \\","b":[1,2]}', 17, 2)).toBeNull();
  });

  it('stops at the first entry over the limit, so a 90,000-item list costs almost nothing', () => {
    const huge = JSON.stringify({ query: 'q', variables: { f: { status: Array(90_000).fill('QUEUED') } } });
    expect(jsonShapeProblem(huge, 17, 200)).toEqual({ kind: 'items', path: 'variables.f.status', limit: 200 });
    expect(jsonShapeProblem(`{"variables":{"v":${'['.repeat(500_000)}${']'.repeat(500_000)}}}`, 17, 200)).toEqual({ kind: 'depth', limit: 17 });
  });
});
