/**
 * docs/configuration.md is generated from src/config.ts (scripts/config-doc.mjs, `npm run docs:config`).
 * Like the fault matrix's table, the committed copy must be what the generator writes today: a setting
 * added, renamed or re-documented in config.ts without regenerating fails here.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONFIG_VARIABLES } from '../../../src/config';

const ROOT = path.resolve(__dirname, '../../..');
const SCRIPT = path.join(ROOT, 'scripts/config-doc.mjs');

async function generated(): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, '--stdout'], { cwd: ROOT });
  return stdout;
}

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` generates from src/config.ts (run it and commit the result)', async () => {
    const committed = readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');
    expect(committed).toBe(await generated());
  });

  it('has one row for every variable the configuration reads, in its order', async () => {
    const rows = [...(await generated()).matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual([...CONFIG_VARIABLES]);
  });

  it('shows the defaults the schema applies', async () => {
    const doc = await generated();
    expect(doc).toMatch(/^\| `PORT` \| `4000` \| — \| an integer 0–65535 \|/m);
    expect(doc).toMatch(/^\| `HTTP_MAX_BODY_BYTES` \| `1048576` \| bytes \|/m);
    expect(doc).toMatch(/^\| `API_KEY_CACHE_MS` \| `5000` \| ms \|/m);
    expect(doc).toMatch(/^\| `DATABASE_URL` \| — \|/m);
  });
});
