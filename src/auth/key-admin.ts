/**
 * Key management as one interface, whoever carries it out: the store itself (PostgreSQL, or an
 * embedded folder no process holds), or a running gateway through its admin socket
 * (server/admin-socket.ts), which is then the only process touching its embedded folder.
 */
import type { ApiKeyRecord, ApiKeyRecords } from '../store/store';
import type { ApiKeyCache } from './api-key-cache';
import { checkOwnerName, createApiKey, revokeApiKey } from './api-keys';

/** A key as listings show it: everything but its hash. */
export type KeyView = Omit<ApiKeyRecord, 'hash'>;

export interface KeyAdmin {
  /** Creates a key; the clear key is returned this once. */
  create(owner: string, label: string | null): Promise<{ key: string; record: KeyView }>;
  list(): Promise<KeyView[]>;
  /** Revokes by id or shown prefix; how many were revoked. */
  revoke(idOrPrefix: string): Promise<number>;
}

/** A request the caller got wrong (an invalid owner name): its message is meant for them. */
export class KeyAdminInputError extends Error {
  override name = 'KeyAdminInputError';
}

/** Key management on `store`; with the running gateway's `cache`, a revocation is refused at once here. */
export function storeKeyAdmin(store: ApiKeyRecords, cache?: ApiKeyCache): KeyAdmin {
  return {
    async create(owner, label) {
      try {
        checkOwnerName(owner);
      } catch (err) {
        throw new KeyAdminInputError((err as Error).message);
      }
      const { key, record } = await createApiKey(store, owner, label);
      return { key, record: keyView(record) };
    },
    list: async () => (await store.listApiKeys()).map(keyView),
    revoke: (idOrPrefix) => revokeApiKey(store, idOrPrefix, cache),
  };
}

function keyView({ hash: _hash, ...rest }: ApiKeyRecord): KeyView {
  return rest;
}
