/**
 * One process per embedded data folder. PGlite has no lock of its own: two processes on one folder
 * each keep their own copy of the database in memory and overwrite each other's files (a key revoked
 * by one came back after the other restarted). The holder writes `gateway.lock` in the folder; a
 * second opener gets `DataFolderLockedError`, naming the folder and the holder.
 *
 * Why an O_EXCL pid file and not proper-lockfile: proper-lockfile decides staleness by the lock's
 * mtime, which the holder must refresh on a timer; a kill -9'd holder then blocks every start until
 * the lock ages out (10 s by default), and a holder whose event loop stalls longer than that (a long
 * WASM query) has its lock "compromised" and taken while it still writes. Node has no flock(2)
 * without a native addon. A pid file is exact on one host: the holder is alive or it is not, and a
 * crashed holder's lock is taken over at the next start, at once.
 */
import { hostname } from 'node:os';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const LOCK_FILE_NAME = 'gateway.lock';

/** Who holds a data folder, as written in its lock file. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** What the holder is: "gateway", "keys CLI"… */
  role: string;
  since: string;
}

export class DataFolderLockedError extends Error {
  override name = 'DataFolderLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The data folder ${dataDir} is in use by another process (${holder.role}, pid ${holder.pid} on ${holder.hostname}, since ${holder.since}). ` +
        'Only one process may open an embedded data folder: stop that one first, use another DATA_DIR, or use DATABASE_URL (PostgreSQL) to run several instances.' +
        (holder.hostname === hostname()
          ? ''
          : ` This host cannot see whether it still runs: if it is gone, delete ${path.join(dataDir, LOCK_FILE_NAME)}.`),
    );
  }
}

/** Lock files this process holds: its own pid in one of them still means "held" (see isAlive). */
const heldHere = new Set<string>();

export interface DataFolderLock {
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/** Takes the lock on `dataDir` (which must exist) for this process, or throws DataFolderLockedError. */
export async function lockDataFolder(dataDir: string, role: string): Promise<DataFolderLock> {
  const file = path.join(dataDir, LOCK_FILE_NAME);
  const mine: LockHolder = { pid: process.pid, hostname: hostname(), role, since: new Date().toISOString() };
  const content = JSON.stringify(mine);
  if (heldHere.has(file)) {
    const holder = parseHolder((await readFile(file, 'utf8').catch(() => '')) || content) ?? mine;
    throw new DataFolderLockedError(dataDir, holder);
  }
  // Bounded: each turn either takes the lock, throws, or removes one stale lock file.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(file, content, { flag: 'wx', mode: 0o600 });
      heldHere.add(file);
      return {
        release: async () => {
          if (!heldHere.delete(file)) return;
          const now = await readFile(file, 'utf8').catch(() => null);
          if (now === content) await unlink(file).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) continue; // released in between
    const holder = parseHolder(text);
    if (holder && isAlive(holder)) throw new DataFolderLockedError(dataDir, holder);
    // Stale (its process is gone) or unreadable (a crash while writing it). Re-read just before
    // removing, so that a lock another starter has just taken over is not removed by this one.
    if ((await readFile(file, 'utf8').catch(() => null)) === text) await unlink(file).catch(() => undefined);
  }
  throw new Error(`could not take the lock ${file}: it kept changing hands`);
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return null;
    return { pid: value.pid, hostname: String(value.hostname ?? '?'), role: String(value.role ?? '?'), since: String(value.since ?? '?') };
  } catch {
    return null;
  }
}

/**
 * Whether the holder still runs. Our own pid in a lock this process does not hold (heldHere) is a
 * dead holder's: a container restarted on the same volume gets the same small pid as the one that crashed. A holder on another host (a
 * folder shared over the network) cannot be checked from here and counts as alive.
 */
function isAlive(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
