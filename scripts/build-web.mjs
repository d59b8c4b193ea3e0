// Bundles the browser pages (progress page at `/`, GraphiQL playground) into dist/public/ with
// esbuild, so the gateway serves every asset itself: nothing is loaded from a CDN.
// Run by `npm run build` (as `build:web`, after `tsc -p src/web` has type-checked the sources).
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/public');
// No source maps: they would triple the image size; the page's own source is in src/web/.
const production = { minify: true, legalComments: 'linked', logLevel: 'warning', target: 'es2022' };

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await Promise.all([
  // The pages: ES modules with code splitting (GraphiQL loads Monaco and prettier lazily).
  build({
    ...production,
    absWorkingDir: root,
    entryPoints: { 'progress/progress': 'src/web/progress/main.ts', 'playground/playground': 'src/web/playground/main.tsx' },
    outdir: out,
    bundle: true,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
  // Monaco's web workers, as classic scripts: `MonacoEnvironment.getWorker` starts them by URL.
  build({
    ...production,
    absWorkingDir: root,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    outdir: path.join(out, 'playground/workers'),
    bundle: true,
    format: 'iife',
  }),
]);

for (const page of ['progress/index.html', 'progress/progress.css', 'playground/index.html', 'playground/page.css']) {
  await cp(path.join(root, 'src/web', page), path.join(out, page));
}

// The gateway's own trusted-documents manifest (TRUSTED_DOCUMENTS_MANIFESTS=project), read from dist/ in the image.
await cp(path.join(root, 'src/web/generated/persisted-documents.json'), path.join(root, 'dist/web/generated/persisted-documents.json'));
