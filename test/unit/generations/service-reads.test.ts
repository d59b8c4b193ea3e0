import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { GenerationEvents } from '../../../src/generations/events';
import { GenerationService, encodeCursor } from '../../../src/generations/service';
import { PollSchedule } from '../../../src/generations/timing';
import { GenerationStatus } from '../../../src/model/generation';
import { UpstreamBackoff } from '../../../src/upstream/health/backoff';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import type { UpstreamClient } from '../../../src/upstream/types';
import { START_TIMEOUT_MS } from '../../helpers/timeouts';

let store: Store;
let queries: string[][];
let service: GenerationService;

function newService(events = new GenerationEvents()): GenerationService {
  return new GenerationService({
    store,
    upstream: {} as UpstreamClient,
    events,
    schedule: new PollSchedule({ timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 60_000 }),
    backoff: new UpstreamBackoff(),
    log: pino({ level: 'silent' }),
    deadlineMs: 60_000,
  });
}

beforeAll(async () => {
  store = createPgliteStore();
  await store.start();
  const getGenerations = store.getGenerations.bind(store);
  store.getGenerations = (owner, ids) => {
    queries.push([owner, ...ids]);
    return getGenerations(owner, ids);
  };
  service = newService();
}, START_TIMEOUT_MS);
afterAll(() => store.stop());
beforeEach(() => (queries = []));

/** Creation times one millisecond apart, in insertion order: two inserts in the same millisecond would list by random id. */
let lastCreatedAt = 0;

async function insert(owner: string): Promise<string> {
  lastCreatedAt = Math.max(Date.now(), lastCreatedAt + 1);
  const { generation } = await store.insertGeneration({
    id: randomUUID(),
    owner,
    input: { model: 'veo2', prompt: 'p' },
    inputHash: 'h',
    idempotencyKey: null,
    status: GenerationStatus.GENERATING,
    createdAt: new Date(lastCreatedAt),
    deadlineAt: new Date(Date.now() + 60_000),
  });
  return generation.id;
}

describe('GenerationService reads', () => {
  it('reads arriving in the same tick share one store query per owner, and each gets its own answer', async () => {
    const alice = await Promise.all([insert('alice'), insert('alice'), insert('alice')]);
    const bob = await insert('bob');
    queries = [];
    const answers = await Promise.all([
      ...alice.map((id) => service.getMany('alice', [id])),
      service.getMany('bob', [bob]),
      service.getMany('alice', [bob]), // someone else's: not found, like an unknown id
      service.getMany('alice', ['not-a-uuid', alice[0]!]),
    ]);
    expect(answers.map((a) => a.map((g) => g?.id ?? null))).toEqual([[alice[0]], [alice[1]], [alice[2]], [bob], [null], [null, alice[0]]]);
    expect(queries).toHaveLength(2);
    expect(queries.map((q) => q[0]).sort()).toEqual(['alice', 'bob']);
  });

  it('keeps nothing in flight: a later read sees a change', async () => {
    const id = await insert('carol');
    const [before] = await service.getMany('carol', [id]);
    await store.updateGeneration({ id, expectedVersion: before!.version, change: { status: GenerationStatus.CANCELLED } });
    const [after] = await service.getMany('carol', [id]);
    expect(after!.status).toBe(GenerationStatus.CANCELLED);
    expect(queries).toHaveLength(2);
  });

  it('answers an ended generation from memory after one read, for its owner only', async () => {
    const id = await insert('dora');
    const [running] = await service.getMany('dora', [id]);
    await store.updateGeneration({ id, expectedVersion: running!.version, change: { status: GenerationStatus.COMPLETED } });
    queries = [];
    const [first] = await service.getMany('dora', [id]);
    const [second] = await service.getMany('dora', [id]);
    expect([first!.status, second!.status]).toEqual([GenerationStatus.COMPLETED, GenerationStatus.COMPLETED]);
    expect(queries).toEqual([['dora', id]]);
    expect((await service.getMany('eve', [id]))[0]).toBeNull(); // another owner still asks the store, and gets nothing
    expect(queries).toHaveLength(2);
  });

  it('drops an ended generation from memory when another instance deletes it or changes it outside the poller', async () => {
    // Two instances: one store, one event transport (Redis when scaled out), separate memory.
    const events = new GenerationEvents();
    const [here, there] = [newService(events), newService(events)];
    const ids = [await insert('jack'), await insert('jack'), await insert('jack')];
    for (const id of ids) {
      const [g] = await store.getGenerations('jack', [id]);
      await store.updateGeneration({ id, expectedVersion: g!.version, change: { status: GenerationStatus.COMPLETED } });
    }
    await here.getMany('jack', ids); // read once, then kept
    queries = [];
    await here.getMany('jack', ids);
    expect(queries).toEqual([]);

    await there.delete('jack', ids[0]!);
    expect((await here.getMany('jack', [ids[0]!]))[0]).toBeNull();

    // The retention sweep's change (here: on the other instance) reaches this one's memory too.
    const [kept] = await here.getMany('jack', [ids[1]!]);
    const changed = await store.updateGeneration({ id: ids[1]!, expectedVersion: kept!.version, change: { upstreamStatus: 'expired' } });
    there.changedElsewhere(changed!);
    expect((await here.getMany('jack', [ids[1]!]))[0]!.version).toBe(changed!.version);

    // A gap in the event stream (a Redis reconnect) may have lost such news: everything kept is read again.
    queries = [];
    events.resync();
    await here.getMany('jack', [ids[2]!]);
    expect(queries).toEqual([['jack', ids[2]]]);
    here.stop();
    there.stop();
  });

  describe('lists', () => {
    const statuses = (page: { generations: { status: string }[] }) => page.generations.map((g) => g.status);

    it('show the newer version of an ended generation changed without news of it, and read it anew after', async () => {
      const id = await insert('kate');
      const [g] = await store.getGenerations('kate', [id]);
      const ended = await store.updateGeneration({ id, expectedVersion: g!.version, change: { status: GenerationStatus.COMPLETED } });
      await service.getMany('kate', [id]); // kept
      // Changed behind the service's back (as if the REMOVED message were lost).
      const changed = await store.updateGeneration({ id, expectedVersion: ended!.version, change: { upstreamStatus: 'expired' } });
      expect((await service.list('kate', { first: 5 })).generations.map((x) => x.version)).toEqual([changed!.version]);
      expect((await service.getMany('kate', [id]))[0]!.version).toBe(changed!.version);
    });

    it('show a status change at once, and answer ended generations from memory', async () => {
      const ids = [await insert('fred'), await insert('fred'), await insert('fred')];
      expect(statuses(await service.list('fred', { first: 10 }))).toEqual(['GENERATING', 'GENERATING', 'GENERATING']);
      const [newest] = await store.getGenerations('fred', [ids[2]!]);
      await store.updateGeneration({
        id: ids[2]!,
        expectedVersion: newest!.version,
        change: { status: GenerationStatus.COMPLETED },
      });
      queries = [];
      const page = await service.list('fred', { first: 10 });
      expect(page.generations.map((g) => g.id)).toEqual([...ids].reverse());
      expect(statuses(page)).toEqual(['COMPLETED', 'GENERATING', 'GENERATING']);
      expect(queries.map((q) => [q[0], ...q.slice(1).sort()])).toEqual([['fred', ...[...ids].sort()]]);
      queries = [];
      // Now ended: the next list reads only the in-flight ones.
      expect(statuses(await service.list('fred', { first: 10 }))).toEqual(['COMPLETED', 'GENERATING', 'GENERATING']);
      expect(queries.map((q) => [q[0], ...q.slice(1).sort()])).toEqual([['fred', ...[ids[0]!, ids[1]!].sort()]]);
    });

    it('see changes made through another instance (same store, separate memory)', async () => {
      const other = newService();
      const id = await insert('gina');
      expect(statuses(await service.list('gina', { first: 5 }))).toEqual(['GENERATING']);
      const [g] = await store.getGenerations('gina', [id]);
      await store.updateGeneration({ id, expectedVersion: g!.version, change: { status: GenerationStatus.CANCELLED } });
      expect(statuses(await other.list('gina', { first: 5 }))).toEqual(['CANCELLED']);
      expect(statuses(await service.list('gina', { first: 5 }))).toEqual(['CANCELLED']);
      // A generation another instance ends is read once, then kept: it never changes again.
      await store.insertGeneration({
        id: randomUUID(),
        owner: 'gina',
        input: { model: 'veo2', prompt: 'q' },
        inputHash: 'h',
        idempotencyKey: null,
        status: GenerationStatus.QUEUED,
        createdAt: new Date(),
        deadlineAt: new Date(Date.now() + 60_000),
      });
      expect(statuses(await service.list('gina', { first: 5, statuses: [GenerationStatus.QUEUED] }))).toEqual(['QUEUED']);
      expect(statuses(await service.list('gina', { first: 5 }))).toEqual(['QUEUED', 'CANCELLED']);
    });

    it('keep owners apart, page by cursor, and leave out a generation deleted in between', async () => {
      const mine = [await insert('hana'), await insert('hana'), await insert('hana')];
      const theirs = await insert('ivan');
      for (const id of [...mine, theirs]) {
        const owner = id === theirs ? 'ivan' : 'hana';
        const [g] = await store.getGenerations(owner, [id]);
        await store.updateGeneration({ id, expectedVersion: g!.version, change: { status: GenerationStatus.COMPLETED } });
      }
      const first = await service.list('hana', { first: 2 });
      expect(first.generations.map((g) => g.id)).toEqual([mine[2], mine[1]]);
      expect(first.hasNextPage).toBe(true);
      const second = await service.list('hana', { first: 2, after: encodeCursor(first.generations[1]!) });
      expect(second.generations.map((g) => g.id)).toEqual([mine[0]]);
      expect(second.hasNextPage).toBe(false);
      expect((await service.list('ivan', { first: 10 })).generations.map((g) => g.id)).toEqual([theirs]);

      // The page's ids are read first; a row gone before its generation is read is left out.
      const listKeys = store.listGenerationKeys.bind(store);
      store.listGenerationKeys = async (query) => {
        const keys = await listKeys(query);
        await store.deleteGeneration(mine[1]!);
        return keys;
      };
      const fresh = newService();
      try {
        expect((await fresh.list('hana', { first: 10 })).generations.map((g) => g.id)).toEqual([mine[2], mine[0]]);
      } finally {
        store.listGenerationKeys = listKeys;
      }
    });
  });
});
