// Preloaded into a gateway process (NODE_OPTIONS="--require <this file>", LOADED_MODULES_FILE=<file>):
// appends every module file the process loads to LOADED_MODULES_FILE, one a line, so a test can tell
// which packages a configuration pulls in. CommonJS modules are listed as require() adds them to
// require.cache (a list written only at exit was sometimes missing from the file); ES modules (an
// import() of a package) by a load hook as they load.
/* eslint-disable @typescript-eslint/no-require-imports -- a `--require` preload is CommonJS */
const { appendFileSync } = require('node:fs');
const Module = require('node:module');
const { isMainThread } = require('node:worker_threads');

const file = process.env.LOADED_MODULES_FILE;
if (file) {
  // Worker threads (the embedded database's) run this too: their modules are counted with the rest.
  // require.cache keeps insertion order, so what a require() added is at the end of its keys.
  let listed = 0;
  const listNew = () => {
    const keys = Object.keys(require.cache);
    if (keys.length > listed) appendFileSync(file, keys.slice(listed).join('\n') + '\n');
    listed = keys.length;
  };
  const load = Module._load;
  Module._load = function (...args) {
    try {
      return load.apply(this, args);
    } finally {
      listNew();
    }
  };
  process.on('exit', listNew);
  if (isMainThread) {
    const hook = [
      "import { appendFileSync } from 'node:fs';",
      'let file;',
      'export function initialize(data) { file = data.file; }',
      "export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }",
    ].join('\n');
    Module.register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { file } });
  }
}
