/**
 * GraphQL Code Generator: typed documents (`TypedDocumentNode`) for the operations in
 * src/web/operations.graphql, checked against the committed schema. Run `npm run codegen` after
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
      // Plain result types (no fragment masking): the page and the tests read fields directly.
      presetConfig: { fragmentMasking: false },
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
