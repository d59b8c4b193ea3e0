import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Store } from './store';

/**
 * The store the configuration asks for: PostgreSQL when DATABASE_URL is set, else the embedded one, in `dataDir` or in memory.
 * Each is loaded only when chosen: a deployment pays for pg or PGlite's JavaScript, never both.
 */
export async function createStore(
  config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'embeddedSharedBuffersMb' | 'embeddedReadCache'>>,
  log?: Logger,
  /** Names this process in the embedded data folder's lock. Default "gateway". */
  role?: string,
): Promise<Store> {
  if (config.databaseUrl) {
    const { createPgStore } = await import('./pg-store.js');
    return createPgStore({ connectionString: config.databaseUrl, poolSize: config.databasePoolSize, log });
  }
  const { createPgliteStore } = await import('./pglite-store.js');
  return createPgliteStore({ dataDir: config.dataDir, role, sharedBuffersMb: config.embeddedSharedBuffersMb, readCache: config.embeddedReadCache });
}

/** The store of createStore, opened and migrated (Store.start). */
export async function openStore(...args: Parameters<typeof createStore>): Promise<Store> {
  const store = await createStore(...args);
  await store.start();
  return store;
}
