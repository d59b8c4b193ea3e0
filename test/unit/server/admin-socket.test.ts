/**
 * The admin socket over a real Unix socket in a temporary folder, with a recording KeyAdmin in place
 * of the store (the gateway and CLI processes are in test/e2e/key-management.test.ts).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { KeyAdminInputError, type KeyAdmin, type KeyView } from '../../../src/auth/key-admin';
import { ADMIN_SOCKET_NAME, connectAdminSocket, startAdminSocket, type AdminSocket } from '../../../src/server/admin-socket';

const KEY: KeyView = {
  id: 'k1',
  owner: 'alice',
  prefix: 'vgw_abcdefgh',
  label: null,
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
  revokedAt: null,
};

let dir: string;
let socketPath: string;
let server: AdminSocket | null;
let logs: string[];
let failList = false;
const revoked: string[] = [];

const admin: KeyAdmin = {
  create: async (owner, label) => {
    if (owner.includes(' ')) throw new KeyAdminInputError('owner must be 1-128 characters');
    return { key: 'vgw_secret', record: { ...KEY, owner, label } };
  },
  list: async () => {
    if (failList) throw new Error('disk on fire: /var/lib/secret-path');
    return [KEY, { ...KEY, id: 'k2', revokedAt: new Date('2026-02-01T00:00:00.000Z') }];
  },
  revoke: async (target) => {
    revoked.push(target);
    return 1;
  },
};

/** Sends raw bytes and returns the whole answer. */
function raw(data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(data);
  });
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vgw-admin-'));
  socketPath = path.join(dir, ADMIN_SOCKET_NAME);
  logs = [];
  failList = false;
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }));
  server = await startAdminSocket(socketPath, admin, log);
});
afterEach(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin socket', () => {
  it('is a socket only its owner may open (0600)', () => {
    const st = statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('carries create, list and revoke, with dates as dates', async () => {
    const remote = (await connectAdminSocket(socketPath))!;
    expect(remote).not.toBeNull();
    expect(await remote.create('bob', 'ci')).toEqual({ key: 'vgw_secret', record: { ...KEY, owner: 'bob', label: 'ci' } });
    const keys = await remote.list();
    expect(keys[0]).toEqual(KEY);
    expect(keys[1]!.revokedAt).toEqual(new Date('2026-02-01T00:00:00.000Z'));
    expect(await remote.revoke('vgw_abcdefgh')).toBe(1);
    expect(revoked).toContain('vgw_abcdefgh');
  });

  it('passes the caller’s own mistakes back, and masks (and logs) anything else', async () => {
    const remote = (await connectAdminSocket(socketPath))!;
    await expect(remote.create('not valid', null)).rejects.toThrow('owner must be 1-128 characters');
    failList = true;
    await expect(remote.list()).rejects.toThrow('internal error (see the gateway log)');
    await expect(remote.list()).rejects.not.toThrow(/secret-path/);
    expect(logs.filter((l) => l.includes('disk on fire'))).toHaveLength(2);
  });

  it('answers a malformed request, and an endless one, with an error instead of buffering it', async () => {
    expect(JSON.parse(await raw('{"command":"drop tables"}\n'))).toEqual({ ok: false, error: 'malformed request' });
    expect(JSON.parse(await raw('not json\n'))).toEqual({ ok: false, error: 'malformed request' });
    expect(JSON.parse(await raw('x'.repeat(70 * 1024)))).toEqual({ ok: false, error: 'request longer than 65536 bytes' });
  });

  it('is gone once closed: a client then finds no gateway', async () => {
    await server!.stop();
    server = null;
    expect(await connectAdminSocket(socketPath)).toBeNull();
  });
});
