/**
 * The key CLI, run as users run it: compiled (into a temporary folder, so a parallel `npm run build`
 * is not disturbed) and started with node against a temporary DATA_DIR.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Each step starts a node process that opens the embedded store: seconds on a busy machine, and a
// test runs up to three of them (each bounded by its own 60 s timeout below).
jest.setTimeout(180_000);
const ROOT = path.resolve(__dirname, '../../..');

let outDir: string;
let dataDir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Result> {
  return cliWith({}, ...args);
}

async function cliWith(env: Record<string, string>, ...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(outDir, 'cli/keys.js'), ...args], {
      cwd: ROOT,
      // A clean environment: no NODE_OPTIONS from jest, no upstream key, the embedded store in DATA_DIR.
      env: { PATH: process.env['PATH'] ?? '', NODE_PATH: path.join(ROOT, 'node_modules'), DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), 'vgw-cli-build-'));
  dataDir = await mkdtemp(path.join(tmpdir(), 'vgw-cli-data-'));
  await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: ROOT,
    timeout: 120_000,
  });
}, 180_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

describe('keys CLI', () => {
  let key: string;
  let id: string;

  it('create prints the key once, with its id and owner', async () => {
    const r = await cli('create', '--owner', 'alice', '--label', 'ci runner');
    expect(r.code).toBe(0);
    const keyMatch = /Key \(shown once, store it now\): (vgw_[A-Za-z0-9_-]+)/.exec(r.stdout);
    const idMatch = /Created key ([0-9a-f-]{36}) for owner "alice"\./.exec(r.stdout);
    expect(keyMatch).not.toBeNull();
    expect(idMatch).not.toBeNull();
    key = keyMatch![1]!;
    id = idMatch![1]!;
    expect(key).toHaveLength(36);
  });

  it('list shows the prefix, owner and label, never the key', async () => {
    const r = await cli('list');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(id);
    expect(r.stdout).toContain(key.slice(0, 12));
    expect(r.stdout).toContain('owner=alice');
    expect(r.stdout).toContain('active');
    expect(r.stdout).toContain('"ci runner"');
    expect(r.stdout).not.toContain(key);
    expect(r.stdout).not.toContain(key.slice(12));
  });

  it('revoke <prefix> revokes, and a second revoke finds nothing (exit 1)', async () => {
    const r = await cli('revoke', key.slice(0, 12));
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('Revoked 1 key(s).');
    expect((await cli('list')).stdout).toMatch(new RegExp(`${id}.*owner=alice\\s+revoked \\d{4}-`));
    const again = await cli('revoke', key.slice(0, 12));
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('No active key matches');
  });

  it('revoke <id> revokes', async () => {
    const created = await cli('create', '--owner', 'bob');
    const bobId = /Created key ([0-9a-f-]{36})/.exec(created.stdout)![1]!;
    const r = await cli('revoke', bobId);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Revoked 1 key(s).');
  });

  it.each([[[]], [['frobnicate']], [['create']], [['create', '--owner']], [['revoke']]])('usage error %j exits 2 with the usage', async (args) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage:');
    expect(r.stdout).toBe('');
  });

  it('refuses to work on an in-memory store, which only the running gateway can see', async () => {
    const r = await cliWith({ DATA_IN_MEMORY: 'true' }, 'create', '--owner', 'erin');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DATA_IN_MEMORY is set');
    expect(r.stdout).toBe('');
  });

  it('an invalid owner exits non-zero with the reason, creating nothing', async () => {
    const before = (await cli('list')).stdout;
    const r = await cli('create', '--owner', 'not valid');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('owner must be');
    expect((await cli('list')).stdout).toBe(before);
  });
});
