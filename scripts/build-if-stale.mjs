// Runs `npm run build` only when dist/ was not built from the current sources, so that `npm start`,
// `npm run keys` and `npm run simulator` start in seconds when nothing changed instead of rebuilding
// (a full build takes about 30 s). The sources are identified by a hash of their content, not their
// times: a checkout, a stash or an editor's save-without-change must not trigger a rebuild, and going
// back to an earlier state must not reuse a build of a later one.
//
// `npm run build` itself removes the record first (its `prebuild`), so a build run by hand or by
// `npm test` is never mistaken for one of other sources.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Everything `npm run build` reads besides node_modules (which package-lock.json stands for). */
const INPUTS = ['src', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const RECORD = path.join(root, 'dist', '.built-from');

async function filesUnder(relative) {
  const entries = await readdir(path.join(root, relative), { withFileTypes: true }).catch((err) => {
    if (err.code === 'ENOTDIR') return null;
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries === null) return [relative];
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(relative, e.name)) : [path.join(relative, e.name)])));
  return nested.flat();
}

async function sourcesHash() {
  const files = (await Promise.all(INPUTS.map(filesUnder))).flat().sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash
      .update(file)
      .update('\0')
      .update(await readFile(path.join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

const wanted = await sourcesHash();
const recorded = await readFile(RECORD, 'utf8').catch(() => '');
if (recorded.trim() === wanted) process.exit(0);

console.error(recorded ? 'Sources changed since the last build: building (about 30 s)…' : 'No build yet: building (about 30 s)…');
const npm = process.env.npm_execpath
  ? spawnSync(process.execPath, [process.env.npm_execpath, 'run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (npm.status !== 0) process.exit(npm.status ?? 1);
await writeFile(RECORD, wanted + '\n');
