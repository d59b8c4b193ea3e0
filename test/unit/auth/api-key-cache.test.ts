import { ApiKeyCache } from '../../../src/auth/api-key-cache';
import { createApiKey, hashApiKey, ownerOfKey, revokeApiKey } from '../../../src/auth/api-keys';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import { START_TIMEOUT_MS } from '../../helpers/timeouts';

describe('ApiKeyCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('answers a kept lookup until its TTL has passed, then forgets it', () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    cache.set('h', 'alice', cache.epoch());
    now += 4_999;
    expect(cache.get('h')).toBe('alice');
    now += 1;
    expect(cache.get('h')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps nothing with a TTL of 0', () => {
    const cache = new ApiKeyCache({ ttlMs: 0, now: clock });
    cache.set('h', 'alice', cache.epoch());
    expect(cache.get('h')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, maxEntries: 2, now: clock });
    cache.set('a', 'alice', 0);
    cache.set('b', 'bob', 0);
    cache.set('c', 'carol', 0);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 'bob', 'carol']);
    expect(cache.size).toBe(2);
  });

  it('ignores a lookup that started before a clear', () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    const started = cache.epoch();
    cache.clear();
    cache.set('h', 'alice', started);
    expect(cache.get('h')).toBeUndefined();
  });
});

describe('ownerOfKey with a cache, on a real store', () => {
  let store: Store;
  let now = 0;
  const clock = () => now;
  let lookups: jest.SpyInstance;

  beforeAll(async () => {
    store = createPgliteStore();
    await store.start();
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await store.stop();
  });
  beforeEach(() => {
    now = 1_000;
    lookups = jest.spyOn(store, 'findApiKeyByHash');
  });
  afterEach(() => {
    lookups.mockRestore();
  });

  it('asks the store once per key within the TTL, by hash, and again after it', async () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    const { key } = await createApiKey(store, 'alice');
    for (let i = 0; i < 3; i++) expect(await ownerOfKey(store, key, cache)).toBe('alice');
    expect(lookups).toHaveBeenCalledTimes(1);
    expect(lookups).toHaveBeenCalledWith(hashApiKey(key));
    now += 5_000;
    expect(await ownerOfKey(store, key, cache)).toBe('alice');
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('shares one store lookup among concurrent misses for a key, when it is new and when it has expired', async () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    const { key } = await createApiKey(store, 'alice');
    // 50 requests in flight on one key (the HTTP benchmark's connections) all miss at once.
    const owners = () => Promise.all(Array.from({ length: 50 }, () => ownerOfKey(store, key, cache)));
    expect(new Set(await owners())).toEqual(new Set(['alice']));
    expect(lookups).toHaveBeenCalledTimes(1);
    now += 5_000;
    expect(new Set(await owners())).toEqual(new Set(['alice']));
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('shares a lookup that finds nothing, and keeps nothing of it', async () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    const unknown = `vgw_${'C'.repeat(32)}`;
    expect(await Promise.all([ownerOfKey(store, unknown, cache), ownerOfKey(store, unknown, cache)])).toEqual([null, null]);
    expect(lookups).toHaveBeenCalledTimes(1);
    expect(await ownerOfKey(store, unknown, cache)).toBeNull();
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('never keeps an unknown or revoked key', async () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    const { key, record } = await createApiKey(store, 'bob');
    await store.revokeApiKey(record.id, new Date());
    const unknown = `vgw_${'B'.repeat(32)}`;
    for (let i = 0; i < 2; i++) {
      expect(await ownerOfKey(store, key, cache)).toBeNull();
      expect(await ownerOfKey(store, unknown, cache)).toBeNull();
    }
    expect(lookups).toHaveBeenCalledTimes(4);
    expect(cache.size).toBe(0);
  });

  it('sees a revocation made elsewhere (the CLI, another instance) once the TTL has passed', async () => {
    const cache = new ApiKeyCache({ ttlMs: 5_000, now: clock });
    const { key, record } = await createApiKey(store, 'carol');
    expect(await ownerOfKey(store, key, cache)).toBe('carol');
    await store.revokeApiKey(record.id, new Date());
    expect(await ownerOfKey(store, key, cache)).toBe('carol');
    now += 5_000;
    expect(await ownerOfKey(store, key, cache)).toBeNull();
  });

  describe('revoked through this process (revokeApiKey with its cache)', () => {
    let own: Store;
    let cache: ApiKeyCache;
    beforeAll(async () => {
      own = createPgliteStore();
      await own.start();
      cache = new ApiKeyCache({ ttlMs: 60_000, now: clock });
    }, START_TIMEOUT_MS);
    afterAll(async () => {
      await own.stop();
    });

    it('refuses the key at once, and returns what the store returns', async () => {
      const { key } = await createApiKey(own, 'dave');
      const other = await createApiKey(own, 'erin');
      expect(await ownerOfKey(own, key, cache)).toBe('dave');
      expect(await ownerOfKey(own, other.key, cache)).toBe('erin');
      expect(await revokeApiKey(own, key.slice(0, 12), cache)).toBe(1);
      expect(await ownerOfKey(own, key, cache)).toBeNull();
      expect(await ownerOfKey(own, other.key, cache)).toBe('erin');
      expect(await revokeApiKey(own, key.slice(0, 12), cache)).toBe(0);
    });

    /** The next store lookup reads the key, then waits for `release` before it answers. */
    function holdNextLookup(): { release: () => void; restore: () => void } {
      const read = own.findApiKeyByHash.bind(own);
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const spy = jest.spyOn(own, 'findApiKeyByHash').mockImplementationOnce(async (hash) => {
        const record = await read(hash);
        await held;
        return record;
      });
      return { release, restore: () => spy.mockRestore() };
    }

    it('does not keep a lookup that read the key before it was revoked and finished after', async () => {
      const { key } = await createApiKey(own, 'frank');
      const slow = holdNextLookup();
      const inFlight = ownerOfKey(own, key, cache);
      await revokeApiKey(own, key.slice(0, 12), cache);
      slow.release();
      expect(await inFlight).toBe('frank'); // it read the key before the revocation
      slow.restore();
      expect(cache.get(hashApiKey(key))).toBeUndefined();
      expect(await ownerOfKey(own, key, cache)).toBeNull();
    });

    it('does not answer a request after the revocation from a lookup started before it', async () => {
      const { key } = await createApiKey(own, 'grace');
      const slow = holdNextLookup();
      const before = ownerOfKey(own, key, cache);
      await revokeApiKey(own, key.slice(0, 12), cache);
      const after = ownerOfKey(own, key, cache);
      expect(await after).toBeNull();
      slow.release();
      expect(await before).toBe('grace');
      slow.restore();
    });
  });
});
