import type { Config } from '../config';
import { createPgliteStore } from './pglite-store';
import type { Store } from './store';

/** The store the configuration asks for: the embedded one, in `dataDir` or in memory. */
export function createStore(config: Pick<Config, 'dataDir'>): Store {
  return createPgliteStore({ dataDir: config.dataDir });
}
