import { bearerToken, checkOwnerName, createApiKey, ensureDevelopmentKey, hashApiKey, ownerOfKey } from '../../../src/auth/api-keys';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import { START_TIMEOUT_MS } from '../../helpers/timeouts';

// One in-memory store for the file (starting PGlite takes seconds); tests use their own keys.
let store: Store;

beforeAll(async () => {
  store = createPgliteStore();
  await store.start();
}, START_TIMEOUT_MS);

afterAll(async () => {
  await store.stop();
});

describe('createApiKey', () => {
  it('returns a vgw_ key once and stores only its SHA-256 hash and a short prefix', async () => {
    const { key, record } = await createApiKey(store, 'alice', 'ci');
    expect(key).toMatch(/^vgw_[A-Za-z0-9_-]{32}$/);
    expect(record).toMatchObject({ owner: 'alice', label: 'ci', revokedAt: null, prefix: key.slice(0, 12) });
    expect(record.hash).toBe(hashApiKey(key));
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);

    const stored = (await store.listApiKeys()).filter((k) => k.id === record.id);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(JSON.stringify(stored)).not.toContain(key.slice(12));
    expect(stored[0]).toMatchObject({ id: record.id, owner: 'alice', hash: hashApiKey(key), prefix: key.slice(0, 12) });
  });

  it('makes a different key every time', async () => {
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) keys.add((await createApiKey(store, 'alice')).key);
    expect(keys.size).toBe(5);
  });

  it.each([[''], ['-alice'], ['has space'], ['a'.repeat(129)], ['ali/ce'], ['ключ']])('refuses the owner name %j', async (owner) => {
    const before = (await store.listApiKeys()).length;
    await expect(createApiKey(store, owner)).rejects.toThrow(/owner must be/);
    expect(await store.listApiKeys()).toHaveLength(before);
  });

  it('accepts plain owner names', () => {
    for (const owner of ['a', 'alice', 'team.video-1', 'bob@example.com', 'x'.repeat(128)]) expect(checkOwnerName(owner)).toBe(owner);
  });
});

describe('ownerOfKey', () => {
  it('finds the owner of a valid key', async () => {
    const { key } = await createApiKey(store, 'alice');
    const { key: other } = await createApiKey(store, 'bob');
    expect(await ownerOfKey(store, key)).toBe('alice');
    expect(await ownerOfKey(store, other)).toBe('bob');
  });

  it('is null for a revoked key, by id or by prefix', async () => {
    const a = await createApiKey(store, 'alice');
    const b = await createApiKey(store, 'bob');
    expect(await store.revokeApiKey(a.record.id, new Date())).toBe(1);
    expect(await store.revokeApiKey(b.record.prefix, new Date())).toBe(1);
    expect(await ownerOfKey(store, a.key)).toBeNull();
    expect(await ownerOfKey(store, b.key)).toBeNull();
    // Revoking again changes nothing.
    expect(await store.revokeApiKey(a.record.id, new Date())).toBe(0);
  });

  it('is null for an unknown key', async () => {
    await createApiKey(store, 'alice');
    expect(await ownerOfKey(store, 'vgw_' + 'A'.repeat(32))).toBeNull();
  });

  it.each([[''], ['vgw_'], ['sk-123'], ['Bearer vgw_abc'], ['VGW_abc'], ['vgw_' + 'x'.repeat(300)]])(
    'is null for the malformed key %j',
    async (bad) => {
      expect(await ownerOfKey(store, bad)).toBeNull();
    },
  );

  it('does not accept the hash or the prefix in place of the key', async () => {
    const { key, record } = await createApiKey(store, 'alice');
    expect(await ownerOfKey(store, record.hash)).toBeNull();
    expect(await ownerOfKey(store, record.prefix)).toBeNull();
    expect(await ownerOfKey(store, key + 'x')).toBeNull();
    expect(await ownerOfKey(store, key.slice(0, -1))).toBeNull();
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer vgw_abc', 'vgw_abc'],
    ['bearer vgw_abc', 'vgw_abc'],
    ['BEARER   vgw_abc  ', 'vgw_abc'],
    ['Bearer\tvgw_abc', 'vgw_abc'],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    [undefined],
    [null],
    [42],
    [['Bearer vgw_abc']],
    [''],
    ['Bearer'],
    ['Bearer '],
    ['Basic dXNlcjpwYXNz'],
    ['vgw_abc'],
    ['Bearer a b'],
    [' Bearer vgw_abc'],
  ])('%j → null', (value) => {
    expect(bearerToken(value)).toBeNull();
  });
});

describe('ensureDevelopmentKey', () => {
  let empty: Store;
  beforeEach(async () => {
    empty = createPgliteStore();
    await empty.start();
  });
  afterEach(async () => {
    await empty.stop();
  });

  it('creates one key for owner "dev" on an empty store, then never again', async () => {
    const key = await ensureDevelopmentKey(empty);
    expect(key).toMatch(/^vgw_/);
    expect(await ownerOfKey(empty, key!)).toBe('dev');
    expect(await ensureDevelopmentKey(empty)).toBeNull();
    expect(await empty.listApiKeys()).toHaveLength(1);
  });

  it('does nothing when any key exists, even a revoked one', async () => {
    const { record } = await createApiKey(empty, 'alice');
    await empty.revokeApiKey(record.id, new Date());
    expect(await ensureDevelopmentKey(empty)).toBeNull();
    expect((await empty.listApiKeys()).map((k) => k.owner)).toEqual(['alice']);
  });
});
