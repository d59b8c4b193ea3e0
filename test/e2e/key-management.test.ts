/**
 * Key management while gateways run, as users do it: gateway processes (`node dist/main.js`) and the
 * key CLI (`node dist/cli/keys.js`), on a temporary embedded data folder, then on a real PostgreSQL.
 * Needs `npm run build` (npm test runs it first).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeWithServices, startGatewayProcess, startPostgres, type GatewayProcess, type PostgresServer } from '../helpers/services';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli/keys.js');

// Each step starts node processes that open an embedded database: tens of seconds on a loaded machine.
jest.setTimeout(600_000);
const START = { startTimeoutMs: 240_000 };

const AUTHENTICATED = '{ videoGenerations(first: 1) { nodes { id } } }';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function keys(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      timeout: 300_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function createdKey(r: CliResult): string {
  const match = /Key \(shown once, store it now\): (vgw_\S+)/.exec(r.stdout);
  if (r.code !== 0 || !match) throw new Error(`keys create failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return match[1]!;
}

/** The HTTP status of an authenticated query with `key`: 200 when accepted, 401 when refused. */
async function statusWith(gateway: GatewayProcess, key: string): Promise<number> {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: AUTHENTICATED }),
  });
  await res.text();
  return res.status;
}

describe('one embedded data folder, one process; keys managed while it runs', () => {
  let dataDir: string;
  let env: Record<string, string>;
  const gateways: GatewayProcess[] = [];
  let started = 0;

  const start = async () => {
    const gateway = await startGatewayProcess(`embedded-${++started}`, env, START);
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    dataDir = mkdtempSync(path.join(tmpdir(), 'vgw-keys-'));
    // The in-process simulator on a free port; its job file goes into the data folder too.
    env = { DATA_DIR: dataDir, SIMULATOR_PORT: '0' };
    // The database's creation (initdb), once, by the CLI with no gateway running.
    expect(await keys(env, 'list')).toMatchObject({ code: 0, stdout: 'No keys.\n' });
  }, 400_000);
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop()));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a second gateway on the same folder with an error naming the folder and the holder', async () => {
    const first = await start();
    const t = Date.now();
    const second = startGatewayProcess(`embedded-${++started}`, env, START);
    await expect(second).rejects.toThrow(/exited at start \(1\)/);
    const message = String(await second.catch((e: Error) => e.message));
    expect(message).toContain(`The data folder ${dataDir} is in use by another process (gateway, pid ${first.pid}`);
    expect(Date.now() - t).toBeLessThan(15_000);
    // The first one never noticed.
    expect(first.alive).toBe(true);
    expect((await fetch(first.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200);
  });

  it('keys create while the gateway runs: the key works at once and after a restart', async () => {
    let gateway = await start();
    const created = await keys(env, 'create', '--owner', 'alice');
    expect(created.stderr).toContain('through the running gateway');
    const key = createdKey(created);
    expect(await statusWith(gateway, key)).toBe(200);
    await gateway.stop();
    gateways.splice(0);
    gateway = await start();
    expect(await statusWith(gateway, key)).toBe(200);
    expect((await keys(env, 'list')).stdout).toMatch(/owner=alice\s+active/);
  });

  it('keys revoke while the gateway runs: refused at once, and still after a restart', async () => {
    let gateway = await start();
    const key = createdKey(await keys(env, 'create', '--owner', 'bob'));
    // Accepted once, so the running gateway has the key in its lookup cache (API_KEY_CACHE_MS, 5 s).
    expect(await statusWith(gateway, key)).toBe(200);
    const revoked = await keys(env, 'revoke', key.slice(0, 12));
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.stdout).toContain('Revoked 1 key(s).');
    expect(await statusWith(gateway, key)).toBe(401);
    await gateway.stop();
    gateways.splice(0);
    gateway = await start();
    expect(await statusWith(gateway, key)).toBe(401);
    expect((await keys(env, 'list')).stdout).toMatch(/owner=bob\s+revoked \d{4}-/);
  });

  it('the admin socket is the owner’s alone (mode 0600), and an invalid owner is refused through it', async () => {
    await start();
    expect(statSync(path.join(dataDir, 'admin.sock')).mode & 0o777).toBe(0o600);
    const before = (await keys(env, 'list')).stdout;
    const bad = await keys(env, 'create', '--owner', 'not valid');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('owner must be');
    expect((await keys(env, 'list')).stdout).toBe(before);
  });

  it('a gateway killed with SIGKILL does not block the next start, and the CLI works again once it is gone', async () => {
    const key = createdKey(await keys(env, 'create', '--owner', 'carol'));
    const crashed = await start();
    await crashed.kill();
    gateways.splice(0);
    expect(existsSync(path.join(dataDir, 'gateway.lock'))).toBe(true);
    // No gateway: the CLI opens the folder itself (the stale lock and socket do not stop it).
    const listed = await keys(env, 'list');
    expect(listed.code).toBe(0);
    expect(listed.stderr).not.toContain('through the running gateway');
    const next = await start();
    expect(await statusWith(next, key)).toBe(200);
  });
});

describeWithServices('keys CLI against PostgreSQL while two instances run', () => {
  let postgres: PostgresServer;
  const gateways: GatewayProcess[] = [];
  const CACHE_MS = 1_000;

  beforeAll(async () => {
    postgres = await startPostgres();
    for (const name of ['pg-a', 'pg-b']) {
      gateways.push(await startGatewayProcess(name, { DATABASE_URL: postgres.url, SIMULATOR_PORT: '0', API_KEY_CACHE_MS: String(CACHE_MS) }, START));
    }
  }, 600_000);
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await postgres?.destroy();
  });

  it('a key created by the CLI works on both at once; a revoked one is refused by both within API_KEY_CACHE_MS', async () => {
    const env = { DATABASE_URL: postgres.url };
    const key = createdKey(await keys(env, 'create', '--owner', 'dana'));
    for (const g of gateways) expect(await statusWith(g, key)).toBe(200);
    const revoked = await keys(env, 'revoke', key.slice(0, 12));
    expect(revoked.stdout).toContain('Revoked 1 key(s).');
    const revokedAt = Date.now();
    // Each instance may answer from its cache until the entry it made expires, and not after.
    const deadline = revokedAt + CACHE_MS + 2_000;
    for (const g of gateways) {
      let status = await statusWith(g, key);
      while (status !== 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = await statusWith(g, key);
      }
      expect(status).toBe(401);
    }
    expect(Date.now() - revokedAt).toBeLessThan(CACHE_MS + 2_000);
  });
});
