import { randomUUID } from 'node:crypto';
import { GenerationStatus } from '../../../src/model/generation';
import { ListPageCache } from '../../../src/store/list-page-cache';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { GenerationKey, ListQuery, Store } from '../../../src/store/store';

const page = (id: string, version = 1): GenerationKey[] => [{ id, version }];

describe('ListPageCache', () => {
  it('keeps a page per owner and query until that owner changes', async () => {
    const cache = new ListPageCache();
    let reads = 0;
    const read = (id: string) => async () => (reads++, page(id));
    const alice: ListQuery = { owner: 'alice', limit: 21 };
    expect(await cache.page(alice, read('a1'))).toEqual(page('a1'));
    expect(await cache.page(alice, read('a2'))).toEqual(page('a1'));
    expect(await cache.page({ ...alice, statuses: [GenerationStatus.COMPLETED] }, read('a3'))).toEqual(page('a3'));
    expect(await cache.page({ owner: 'bob', limit: 21 }, read('b1'))).toEqual(page('b1'));
    expect(reads).toBe(3);
    cache.changed('bob');
    expect(await cache.page(alice, read('a4'))).toEqual(page('a1'));
    cache.changed('alice');
    expect(await cache.page(alice, read('a5'))).toEqual(page('a5'));
    cache.changed(null);
    expect(await cache.page(alice, read('a6'))).toEqual(page('a6'));
    expect(reads).toBe(5);
  });

  it('does not keep a page read while a write completed', async () => {
    const cache = new ListPageCache();
    const q: ListQuery = { owner: 'alice', limit: 21 };
    let release!: () => void;
    const slow = cache.page(q, () => new Promise((resolve) => (release = () => resolve(page('old')))));
    cache.changed('alice'); // a write lands while the read is in flight
    release();
    expect(await slow).toEqual(page('old'));
    expect(await cache.page(q, async () => page('new'))).toEqual(page('new'));
  });
});

describe('the embedded store keeps list pages, and every write shows in the next list', () => {
  let store: Store;
  beforeAll(async () => {
    store = createPgliteStore();
    await store.start();
  });
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
    const q: ListQuery = { owner: 'zoe', limit: 10 };
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
});
