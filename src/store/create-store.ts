import type { Logger } from 'pino';
import type { Config } from '../config';
import { createPgStore } from './pg-store';
import { createPgliteStore } from './pglite-store';
import type { Store } from './store';

/** The store the configuration asks for: PostgreSQL when DATABASE_URL is set, else the embedded one, in `dataDir` or in memory. */
export function createStore(
  config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'embeddedSharedBuffersMb'>>,
  log?: Logger,
  /** Names this process in the embedded data folder's lock. Default "gateway". */
  role?: string,
): Store {
  if (config.databaseUrl) {
    return createPgStore({ connectionString: config.databaseUrl, poolSize: config.databasePoolSize, log });
  }
  return createPgliteStore({ dataDir: config.dataDir, role, sharedBuffersMb: config.embeddedSharedBuffersMb });
}
