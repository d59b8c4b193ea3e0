import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config';
import { ManifestError, TrustedDocuments, withDocument } from '../../../src/graphql/trusted-documents';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const DOC = 'query Models { videoModels { id } }';
const ID = `sha256:${sha256(DOC)}`;
const dir = mkdtempSync(path.join(tmpdir(), 'manifests-'));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('TrustedDocuments.fromFiles', () => {
  it('loads a codegen manifest and answers its id, its bare hex and its identical text', () => {
    const trusted = TrustedDocuments.fromFiles('require', [file('ok.json', JSON.stringify({ [ID]: DOC }))]);
    expect(trusted.size).toBe(1);
    expect(trusted.decide({ documentId: ID })).toEqual({ query: DOC });
    expect(trusted.decide({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(DOC) } } })).toEqual({ query: DOC });
    expect(trusted.decide({ query: DOC })).toEqual({ query: DOC });
    expect(trusted.decide({ query: `${DOC} ` })).toMatchObject({ error: { extensions: { code: 'PERSISTED_QUERY_REQUIRED' } } });
  });

  it.each([
    ['a missing file', () => path.join(dir, 'absent.json'), /absent\.json: cannot be read/],
    ['a file that is not JSON', () => file('bad.json', '{'), /bad\.json: not JSON/],
    ['a list instead of an object', () => file('list.json', '[]'), /list\.json: expected a JSON object/],
    [
      'an id that is not its text’s SHA-256',
      () => file('forged.json', JSON.stringify({ [ID]: '{ __typename }' })),
      /forged\.json: .* is not the SHA-256/,
    ],
    ['a document that does not parse', () => file('broken.json', JSON.stringify({ broken: 'query {' })), /broken\.json: "broken" does not parse/],
  ])('refuses %s, naming the file', (_name, make, message) => {
    expect(() => TrustedDocuments.fromFiles('require', [make()])).toThrow(ManifestError);
    expect(() => TrustedDocuments.fromFiles('require', [make()])).toThrow(message);
  });
});

describe('withDocument', () => {
  it('puts the decided text in place and drops the id and the APQ extension, keeping other extensions', () => {
    expect(withDocument({ documentId: ID, extensions: { persistedQuery: {}, trace: true }, variables: {} } as never, DOC)).toEqual({
      query: DOC,
      extensions: { trace: true },
      variables: {},
    });
    expect(withDocument({ extensions: { persistedQuery: {} } }, DOC)).toEqual({ query: DOC });
  });
});

describe('configuration', () => {
  it('defaults to off outside production and to require in production, with the project manifest', () => {
    expect(loadConfig({}).trustedDocuments.mode).toBe('off');
    const production = loadConfig({ NODE_ENV: 'production' });
    expect(production.trustedDocuments.mode).toBe('require');
    expect(production.trustedDocuments.manifests).toEqual([expect.stringMatching(/persisted-documents\.json$/)]);
    expect(production.apqCacheBytes).toBe(0);
    expect(loadConfig({}).apqCacheBytes).toBe(4 * 1024 * 1024);
  });

  it('refuses require or allow without a manifest, naming the setting', () => {
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'require', TRUSTED_DOCUMENTS_MANIFESTS: ',' })).toThrow(/TRUSTED_DOCUMENTS_MANIFESTS/);
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'sometimes' })).toThrow(/TRUSTED_DOCUMENTS/);
  });
});
