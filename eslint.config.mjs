// ESLint: typescript-eslint's type-aware recommended rules over every TypeScript file, less the
// few that do not fit this codebase (each turned off below with its reason). Formatting is
// Prettier's job (`npm run lint` runs `prettier --check`); eslint-config-prettier turns off the
// stylistic rules that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Generated code is checked by its generator's staleness test, not edited by hand.
    ignores: ['dist/', 'dist-bench/', 'coverage/', 'data/', 'test/artifacts/', 'src/web/generated/', '**/*.generated.ts'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program per tsconfig: bench/ is only in tsconfig.bench.json, and the browser code
        // has its own (DOM types, bundler resolution).
        project: ['./tsconfig.json', './tsconfig.bench.json', './src/web/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a deliberately unused name (a destructured field left out, a
      // decorated argument the resolver must declare).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // The `!` on an indexed access or a match group marks where the code relies on it existing;
      // without noUncheckedIndexedAccess the type checker calls it unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `async` without `await` is how this code implements Promise-returning interfaces (Apollo
      // plugins, caches, test callbacks), and it turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // String() is applied on purpose: to ws's RawData (a Buffer with the default binaryType)
      // and to values from JSON whose shape is unknown.
      '@typescript-eslint/no-base-to-string': 'off',
      // Close codes arrive as plain numbers from the socket; comparing them with graphql-ws's
      // CloseCode (and graphql's OperationTypeNode with its string) is the point.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  {
    // Tests and benchmarks read JSON answers as `any` and let the assertion be the check; typing
    // every answer would add casts, not safety.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // graphql-ws types Client.dispose as `void | Promise<void>`, but it returns a promise that
      // settles once the socket is closed, which the tests and benchmarks wait for.
      '@typescript-eslint/await-thenable': 'off',
    },
  },
  {
    // Plain JavaScript (scripts, Jest's config, this file) is in no tsconfig.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
  },
  prettier,
);
