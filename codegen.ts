/**
 * GraphQL Code Generator: typed documents (`TypedDocumentNode`) for the operations in
 * src/web/operations.graphql, checked against the committed schema, and the same operations as
 * persisted documents (src/web/generated/persisted-documents.json). Run `npm run codegen` after
 * changing either; a test fails when src/web/generated/ is stale.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['src/web/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/web/generated/': {
      preset: 'client',
      presetConfig: {
        // Plain result types (no fragment masking): the page and the tests read fields directly.
        fragmentMasking: false,
        // persisted-documents.json: each operation by its sha256 (hash → document), the manifest a
        // gateway accepting only trusted documents loads (issue 17; not enforced yet).
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
      config: {
        // Scalars as the wire carries them; JSON is any JSON value.
        scalars: { DateTimeISO: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
