import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { lockDataFolder } from './data-folder-lock';
import { createInMemoryPglite } from './pglite-template';
import { SqlStore } from './sql-store';
import type { Row, SqlDriver, SqlSession } from './sql/session';
import type { Store } from './store';

export interface PgliteStoreOptions {
  /** A folder for the database files (created if missing); undefined keeps everything in memory. */
  dataDir?: string;
  /** Names this process in the data folder's lock (see data-folder-lock.ts). Default "gateway". */
  role?: string;
}

/** The embedded store: PostgreSQL compiled to WASM, in this process, with the same SQL as PostgreSQL. */
export function createPgliteStore(options: PgliteStoreOptions = {}): Store {
  // This process alone writes to its PGlite database, so list pages can be kept until they change.
  return new SqlStore(() => openPglite(options.dataDir, options.role ?? 'gateway'), undefined, { cacheListPages: true });
}

async function openPglite(dataDir: string | undefined, role: string): Promise<SqlDriver> {
  if (dataDir === undefined) return pgliteDriver(await createInMemoryPglite());
  await mkdir(dataDir, { recursive: true });
  // Before PGlite reads a byte: a second process would load its own copy and overwrite the holder's.
  const lock = await lockDataFolder(dataDir, role);
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const driver = pgliteDriver(db);
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

/**
 * PGlite has a single connection and queues every call; its `transaction()` holds that queue until
 * the callback settles, so queries from elsewhere wait rather than land inside someone's transaction.
 * Inside the callback only `tx` may be used: the outer handle would wait for the transaction forever.
 */
export function pgliteDriver(db: PGlite): SqlDriver {
  return {
    ...session(db),
    transaction: (fn) => db.transaction((tx) => fn(session(tx))),
    close: () => db.close(),
  };
}

function session(db: PGlite | Transaction): SqlSession {
  return {
    async query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const result = await db.query<T>(sql, params?.map(toPgliteParam));
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
  };
}

/**
 * Dates go as ISO text (the SQL casts or infers timestamptz): PGlite only recognises a Date made in its
 * own realm, and under jest the caller's Dates come from the test sandbox.
 */
function toPgliteParam(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}
