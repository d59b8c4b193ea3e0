// Preloaded into a gateway process (NODE_OPTIONS="--require <this file>", LOADED_MODULES_FILE=<file>):
// appends every module file the process loads to LOADED_MODULES_FILE, one a line, so a test can tell
// which packages a configuration pulls in. CommonJS modules are listed from require.cache at exit
// (the gateway exits on SIGTERM); ES modules (an import() of a package) by a load hook as they load.
/* eslint-disable @typescript-eslint/no-require-imports -- a `--require` preload is CommonJS */
const { appendFileSync } = require('node:fs');
const { register } = require('node:module');
const { isMainThread } = require('node:worker_threads');

const file = process.env.LOADED_MODULES_FILE;
if (file) {
  // Worker threads (the embedded database's) run this too: their modules are counted with the rest.
  process.on('exit', () => appendFileSync(file, Object.keys(require.cache).join('\n') + '\n'));
  if (isMainThread) {
    const hook = [
      "import { appendFileSync } from 'node:fs';",
      'let file;',
      'export function initialize(data) { file = data.file; }',
      "export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }",
    ].join('\n');
    register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { file } });
  }
}
