import { randomUUID } from 'node:crypto';
import { GenerationStatus } from '../../../src/model/generation';
import { OwnerReadCache } from '../../../src/store/owner-read-cache';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { GenerationKey, Store } from '../../../src/store/store';
import { START_TIMEOUT_MS } from '../../helpers/timeouts';

const page = (id: string, version = 1): GenerationKey[] => [{ id, version }];

describe('OwnerReadCache', () => {
  it('keeps a read per owner and key until that owner changes', async () => {
    const cache = new OwnerReadCache();
    let reads = 0;
    const read = (id: string) => async () => (reads++, page(id));
    expect(await cache.read('alice', 'list', read('a1'))).toEqual(page('a1'));
    expect(await cache.read('alice', 'list', read('a2'))).toEqual(page('a1'));
    expect(await cache.read('alice', 'completed', read('a3'))).toEqual(page('a3'));
    expect(await cache.read('bob', 'list', read('b1'))).toEqual(page('b1'));
    expect(reads).toBe(3);
    cache.changed('bob');
    expect(await cache.read('alice', 'list', read('a4'))).toEqual(page('a1'));
    cache.changed('alice');
    expect(await cache.read('alice', 'list', read('a5'))).toEqual(page('a5'));
    cache.changed(null);
    expect(await cache.read('alice', 'list', read('a6'))).toEqual(page('a6'));
    expect(reads).toBe(5);
  });

  it('does not keep a read that overlapped a write', async () => {
    const cache = new OwnerReadCache();
    let release!: () => void;
    const slow = cache.read('alice', 'list', () => new Promise<GenerationKey[]>((resolve) => (release = () => resolve(page('old')))));
    cache.changed('alice'); // a write lands while the read is in flight
    release();
    expect(await slow).toEqual(page('old'));
    expect(await cache.read('alice', 'list', async () => page('new'))).toEqual(page('new'));
  });
});

describe('OwnerReadCache limits (EMBEDDED_READ_CACHE_OWNERS, EMBEDDED_READ_CACHE_READS_PER_OWNER)', () => {
  /** Reads `key` for `owner` and says whether it came from memory. */
  const cached = async (cache: OwnerReadCache, owner: string, key: string): Promise<boolean> => {
    let fresh = false;
    await cache.read(owner, key, async () => ((fresh = true), page(key)));
    return !fresh;
  };

  it('drops the least recently read owner past `owners`', async () => {
    const cache = new OwnerReadCache({ owners: 2 });
    await cached(cache, 'alice', 'list');
    await cached(cache, 'bob', 'list');
    expect(await cached(cache, 'alice', 'list')).toBe(true); // alice is now the most recent
    await cached(cache, 'carol', 'list'); // bob goes
    expect(await cached(cache, 'alice', 'list')).toBe(true);
    expect(await cached(cache, 'carol', 'list')).toBe(true);
    expect(await cached(cache, 'bob', 'list')).toBe(false);
  });

  it("drops an owner's oldest read past `readsPerOwner`", async () => {
    const cache = new OwnerReadCache({ readsPerOwner: 2 });
    await cached(cache, 'alice', 'p1');
    await cached(cache, 'alice', 'p2');
    await cached(cache, 'alice', 'p3'); // p1 goes
    expect(await cached(cache, 'alice', 'p3')).toBe(true);
    expect(await cached(cache, 'alice', 'p2')).toBe(true);
    expect(await cached(cache, 'alice', 'p1')).toBe(false);
  });

  it('keeps nothing with 0 owners', async () => {
    const cache = new OwnerReadCache({ owners: 0 });
    await cached(cache, 'alice', 'list');
    expect(await cached(cache, 'alice', 'list')).toBe(false);
  });

  it(
    "is sized by the embedded store's settings, and off at 0",
    async () => {
      const off = createPgliteStore({ readCache: { owners: 0 } });
      await off.start();
      try {
        const first = await off.usageGroups('uma', null);
        expect(await off.usageGroups('uma', null)).not.toBe(first); // asked again: nothing kept
      } finally {
        await off.stop();
      }
    },
    START_TIMEOUT_MS,
  );
});

describe('the embedded store keeps list pages and usage reports, and every write shows in the next read', () => {
  let store: Store;
  beforeAll(async () => {
    store = createPgliteStore();
    await store.start();
  }, START_TIMEOUT_MS);
  afterAll(() => store.stop());

  const insert = async (owner: string) =>
    (
      await store.insertGeneration({
        id: randomUUID(),
        owner,
        input: { model: 'veo2', prompt: 'p' },
        inputHash: 'h',
        idempotencyKey: null,
        status: GenerationStatus.QUEUED,
        createdAt: new Date(),
        deadlineAt: new Date(Date.now() + 60_000),
      })
    ).generation;

  it('after an insert, an update, a refused update and a delete', async () => {
    const q = { owner: 'zoe', limit: 10 };
    const a = await insert('zoe');
    expect(await store.listGenerationKeys(q)).toEqual([{ id: a.id, version: 1 }]);
    const b = await insert('zoe');
    expect(await store.listGenerationKeys(q)).toEqual([
      { id: b.id, version: 1 },
      { id: a.id, version: 1 },
    ]);
    await store.updateGeneration({ id: a.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED } });
    expect(await store.listGenerationKeys(q)).toEqual([
      { id: b.id, version: 1 },
      { id: a.id, version: 2 },
    ]);
    expect(await store.listGenerationKeys({ ...q, statuses: [GenerationStatus.QUEUED] })).toEqual([{ id: b.id, version: 1 }]);
    expect(
      await store.updateGeneration({
        id: a.id,
        expectedVersion: 1,
        change: { status: GenerationStatus.FAILED },
      }),
    ).toBeNull();
    await store.deleteGeneration(b.id);
    expect(await store.listGenerationKeys(q)).toEqual([{ id: a.id, version: 2 }]);
    expect(await store.listGenerationKeys({ ...q, statuses: [GenerationStatus.QUEUED] })).toEqual([]);
  });

  const counts = async (owner: string) =>
    Object.fromEntries((await store.usageGroups(owner, null)).map((g) => [g.status, g.count])) as Record<string, number>;

  it('answers a repeated report from memory until the owner writes', async () => {
    const a = await insert('uma');
    const first = await store.usageGroups('uma', null);
    // The same answer object: the database thread was not asked again.
    expect(await store.usageGroups('uma', null)).toBe(first);
    await insert('other');
    expect(await store.usageGroups('uma', null)).toBe(first);

    await store.updateGeneration({ id: a.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, usage: { credits: 7, usd: null } } });
    expect(await counts('uma')).toEqual({ [GenerationStatus.COMPLETED]: 1 });
    expect((await store.usageGroups('uma', null))[0]!.credits).toBe(7);
    const b = await insert('uma');
    expect(await counts('uma')).toEqual({ [GenerationStatus.COMPLETED]: 1, [GenerationStatus.QUEUED]: 1 });
    // A create the upstream never recorded is forgotten whole (an owner's own delete keeps what was paid).
    await store.deleteGeneration(b.id);
    expect(await counts('uma')).toEqual({ [GenerationStatus.COMPLETED]: 1 });
  });
});
