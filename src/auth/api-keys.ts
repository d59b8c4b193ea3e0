/**
 * API keys: random, shown once, stored only as a SHA-256 hash. A key names its owner; every
 * generation belongs to the owner of the key that created it.
 *
 * SHA-256 (not a slow password hash) is enough because keys are 192 random bits, not
 * human-chosen secrets, and it keeps the per-request lookup cheap.
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyRecords } from '../store/store';
import type { ApiKeyCache } from './api-key-cache';

const KEY_PREFIX = 'vgw_';
/** Characters of the key kept in clear for listings (the `vgw_` prefix plus 8). */
const SHOWN_PREFIX_LENGTH = 12;
/** Owner names: what appears in logs and metrics, so kept plain. */
const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export function hashApiKey(key: string): string {
  // The one-shot hash: no Hash object per request (it runs on every authenticated request).
  return hash('sha256', key, 'hex');
}

export function checkOwnerName(owner: string): string {
  if (!OWNER_PATTERN.test(owner)) {
    throw new Error('owner must be 1-128 characters: letters, digits, and . _ @ - (not first)');
  }
  return owner;
}

/** Creates a key for `owner` and returns it in clear: the only time it is ever visible. */
export async function createApiKey(store: ApiKeyRecords, owner: string, label: string | null = null): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = KEY_PREFIX + randomBytes(24).toString('base64url');
  const record: ApiKeyRecord = {
    id: randomUUID(),
    owner: checkOwnerName(owner),
    hash: hashApiKey(key),
    prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
    label,
    createdAt: new Date(),
    revokedAt: null,
  };
  await store.insertApiKey(record);
  return { key, record };
}

/**
 * The owner of a presented key, or null when it is unknown or revoked. With a `cache`, a key found
 * recently is answered from it, and concurrent misses share one lookup (see api-key-cache.ts for how
 * soon a revocation is seen).
 */
export async function ownerOfKey(store: ApiKeyRecords, key: string, cache?: ApiKeyCache): Promise<string | null> {
  if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
  const hash = hashApiKey(key);
  const cached = cache?.get(hash);
  if (cached !== undefined) return cached;
  const lookup = async () => {
    const record = await store.findApiKeyByHash(hash);
    return record && !record.revokedAt ? record.owner : null;
  };
  return cache ? cache.lookup(hash, lookup) : lookup();
}

/**
 * Revokes the key with this id or shown prefix, and returns how many were revoked (0 when none is
 * active). With a `cache`, this process refuses the key at once: the whole cache goes, since a
 * revocation names a key by id or prefix, not by hash, and revocations are rare.
 */
export async function revokeApiKey(store: ApiKeyRecords, idOrPrefix: string, cache?: ApiKeyCache): Promise<number> {
  try {
    return await store.revokeApiKey(idOrPrefix, new Date());
  } finally {
    cache?.clear();
  }
}

/**
 * The key carried by an `Authorization: Bearer …` value (HTTP header, or the WebSocket
 * `connectionParams.authorization`), or null when there is none.
 */
export function bearerToken(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1]! : null;
}

/**
 * Outside production, an empty key store gets one development key so the playground works at
 * once. Returns it in clear when it was created now, null otherwise.
 */
export async function ensureDevelopmentKey(store: ApiKeyRecords): Promise<string | null> {
  if ((await store.listApiKeys()).length > 0) return null;
  const { key } = await createApiKey(store, 'dev', 'development key (created at start-up)');
  return key;
}
