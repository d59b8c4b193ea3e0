/**
 * The data folder's lock on a real temporary folder, with real processes as live and dead holders.
 * (The whole story, gateway and key CLI processes, is in test/e2e/key-management.test.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { DataFolderLockedError, LOCK_FILE_NAME, lockDataFolder } from '../../../src/store/data-folder-lock';

let dir: string;
let lockFile: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vgw-lock-'));
  lockFile = path.join(dir, LOCK_FILE_NAME);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const holderFile = (pid: number, host = hostname()) => JSON.stringify({ pid, hostname: host, role: 'gateway', since: '2026-01-01T00:00:00.000Z' });

function nodeChild(script: string): ChildProcess {
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

describe('lockDataFolder', () => {
  it('writes who holds the folder, refuses a second opener with the folder and the holder, and frees it on release', async () => {
    const lock = await lockDataFolder(dir, 'gateway');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname(), role: 'gateway' });
    const second = lockDataFolder(dir, 'keys CLI');
    await expect(second).rejects.toBeInstanceOf(DataFolderLockedError);
    await expect(second).rejects.toThrow(`The data folder ${dir} is in use by another process (gateway, pid ${process.pid} on ${hostname()}`);
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
    const again = await lockDataFolder(dir, 'keys CLI');
    await again.release();
  });

  it('refuses while another live process holds it', async () => {
    const holder = nodeChild('setTimeout(() => {}, 30_000)');
    try {
      writeFileSync(lockFile, holderFile(holder.pid!));
      await expect(lockDataFolder(dir, 'gateway')).rejects.toThrow(`(gateway, pid ${holder.pid} on ${hostname()}`);
      expect(readFileSync(lockFile, 'utf8')).toBe(holderFile(holder.pid!));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that is gone (killed with SIGKILL)', async () => {
    const holder = nodeChild('setTimeout(() => {}, 30_000)');
    writeFileSync(lockFile, holderFile(holder.pid!));
    await new Promise((resolve) => {
      holder.once('exit', resolve);
      holder.kill('SIGKILL');
    });
    const lock = await lockDataFolder(dir, 'gateway');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a lock file left unreadable (a crash while writing it)', async () => {
    writeFileSync(lockFile, '{"pid": 12');
    const lock = await lockDataFolder(dir, 'gateway');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a lock naming this pid that this process does not hold (a restarted container reuses its pid)', async () => {
    writeFileSync(lockFile, holderFile(process.pid));
    const lock = await lockDataFolder(dir, 'gateway');
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it('counts a lock from another host as held, and says how to clear it', async () => {
    writeFileSync(lockFile, holderFile(1, 'some-other-host'));
    await expect(lockDataFolder(dir, 'gateway')).rejects.toThrow(`if it is gone, delete ${lockFile}`);
  });
});
