/**
 * `npm start` builds only when the sources changed (scripts/build-if-stale.mjs). Runs the real
 * script with the real npm in a scratch project whose `build` only counts its runs, so that what
 * is measured is the decision, not TypeScript.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../../../scripts/build-if-stale.mjs');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'build-if-stale-'));
  await mkdir(path.join(dir, 'scripts'));
  await mkdir(path.join(dir, 'src'));
  await cp(SCRIPT, path.join(dir, 'scripts/build-if-stale.mjs'));
  // The same prebuild as the project's: a build started any other way forgets what dist/ was built from.
  const pkg = JSON.parse(await readFile(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'scratch',
      private: true,
      scripts: {
        prebuild: pkg.scripts.prebuild,
        build: `node -e "const fs=require('fs');fs.mkdirSync('dist',{recursive:true});fs.appendFileSync('builds.log','x')"`,
        prestart: pkg.scripts.prestart,
        start: 'node -e ""',
      },
    }),
  );
  await writeFile(path.join(dir, 'src/main.ts'), 'export const a = 1;\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function npm(...args: string[]): Promise<void> {
  await run('npm', args, { cwd: dir, timeout: 60_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
}

async function builds(): Promise<number> {
  return (await readFile(path.join(dir, 'builds.log'), 'utf8').catch(() => '')).length;
}

it('builds on the first start, not on a second start with the same sources', async () => {
  await npm('start');
  expect(await builds()).toBe(1);
  await npm('start');
  expect(await builds()).toBe(1);
}, 120_000);

it('rebuilds when a source changes, and again when it changes back', async () => {
  await npm('start');
  await writeFile(path.join(dir, 'src/main.ts'), 'export const a = 2;\n');
  await npm('start');
  expect(await builds()).toBe(2);
  await writeFile(path.join(dir, 'src/main.ts'), 'export const a = 1;\n');
  await npm('start');
  expect(await builds()).toBe(3);
}, 120_000);

it('does not trust dist/ after a build started by hand', async () => {
  await npm('start');
  await writeFile(path.join(dir, 'src/main.ts'), 'export const a = 2;\n');
  await npm('run', 'build');
  // The sources are those of the first build again, but dist/ holds the second one.
  await writeFile(path.join(dir, 'src/main.ts'), 'export const a = 1;\n');
  await npm('start');
  expect(await builds()).toBe(3);
}, 120_000);
