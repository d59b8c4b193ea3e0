import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { lockDataFolder } from './data-folder-lock';
import { templatePath } from './pglite-template-path';
import type { OwnerReadCacheOptions } from './owner-read-cache';
import { initialisePgliteDataDir, openPgliteThread } from './pglite-thread';
import { SqlStore } from './sql-store';
import type { SqlDriver } from './sql/session';
import type { Store } from './store';

export interface PgliteStoreOptions {
  /** A folder for the database files (created if missing); undefined keeps everything in memory. */
  dataDir?: string;
  /** Names this process in the data folder's lock (see data-folder-lock.ts). Default "gateway". */
  role?: string;
  /** shared_buffers (MB) for a data folder; undefined keeps PGlite's (128 MB). See EMBEDDED_SHARED_BUFFERS_MB. */
  sharedBuffersMb?: number;
  /**
   * How many owners' list pages and usage reports are kept in memory until they change (this process
   * alone writes to its PGlite database, so a kept read is exact). Defaults in OwnerReadCache; 0 owners
   * keeps none.
   */
  readCache?: OwnerReadCacheOptions;
}

/**
 * The embedded store: PostgreSQL compiled to WASM, with the same SQL as PostgreSQL, on a thread of
 * its own (pglite-thread.ts) so that no query blocks the gateway's main thread.
 */
export function createPgliteStore(options: PgliteStoreOptions = {}): Store {
  return new SqlStore(() => openPglite(options.dataDir, options.role ?? 'gateway', options.sharedBuffersMb), undefined, {
    ownerReads: options.readCache ?? EMBEDDED_SQL_STORE_OPTIONS.ownerReads,
  });
}

/** This process alone writes to its PGlite database, so list pages and usage reports are kept until they change (default sizes). */
export const EMBEDDED_SQL_STORE_OPTIONS = { ownerReads: {} } as const;

async function openPglite(dataDir: string | undefined, role: string, sharedBuffersMb: number | undefined): Promise<SqlDriver> {
  if (dataDir === undefined) return openPgliteThread({ templateFile: templatePath() });
  await mkdir(dataDir, { recursive: true });
  // Before PGlite reads a byte: a second process would load its own copy and overwrite the holder's.
  const lock = await lockDataFolder(dataDir, role);
  let driver: SqlDriver;
  try {
    // A folder without PG_VERSION is new: initdb and the migrations run in a process of its own first (see initialisePgliteDataDir).
    if (!(await isInitialised(dataDir))) await initialisePgliteDataDir(dataDir);
    driver = await openPgliteThread({ dataDir, templateFile: null, sharedBuffersMb });
  } catch (err) {
    await lock.release();
    throw err;
  }
  return {
    ...driver,
    close: async () => {
      try {
        await driver.close();
      } finally {
        await lock.release();
      }
    },
  };
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return access(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}
