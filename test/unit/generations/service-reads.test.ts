import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { GenerationEvents } from '../../../src/generations/events';
import { GenerationService } from '../../../src/generations/service';
import { PollSchedule } from '../../../src/generations/timing';
import { GenerationStatus } from '../../../src/generations/types';
import { UpstreamBackoff } from '../../../src/generations/upstream-backoff';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import type { UpstreamClient } from '../../../src/upstream/types';

let store: Store;
let queries: string[][];
let service: GenerationService;

beforeAll(async () => {
  store = createPgliteStore();
  await store.start();
  const getGenerations = store.getGenerations.bind(store);
  store.getGenerations = (owner, ids) => {
    queries.push([owner, ...ids]);
    return getGenerations(owner, ids);
  };
  service = new GenerationService({
    store,
    upstream: {} as UpstreamClient,
    events: new GenerationEvents(),
    schedule: new PollSchedule({ timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 60_000 }),
    backoff: new UpstreamBackoff(),
    log: pino({ level: 'silent' }),
    deadlineMs: 60_000,
  });
});
afterAll(() => store.stop());
beforeEach(() => (queries = []));

async function insert(owner: string): Promise<string> {
  const { generation } = await store.insertGeneration({
    id: randomUUID(),
    owner,
    input: { model: 'veo2', prompt: 'p' },
    inputHash: 'h',
    idempotencyKey: null,
    status: GenerationStatus.GENERATING,
    createdAt: new Date(),
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
    expect(answers.map((a) => a.map((g) => g?.id ?? null))).toEqual([
      [alice[0]],
      [alice[1]],
      [alice[2]],
      [bob],
      [null],
      [null, alice[0]],
    ]);
    expect(queries).toHaveLength(2);
    expect(queries.map((q) => q[0]).sort()).toEqual(['alice', 'bob']);
  });

  it('keeps nothing in flight: a later read sees a change', async () => {
    const id = await insert('carol');
    const [before] = await service.getMany('carol', [id]);
    await store.updateGeneration(id, before!.version, { status: GenerationStatus.CANCELLED });
    const [after] = await service.getMany('carol', [id]);
    expect(after!.status).toBe(GenerationStatus.CANCELLED);
    expect(queries).toHaveLength(2);
  });

  it('answers an ended generation from memory after one read, for its owner only', async () => {
    const id = await insert('dora');
    const [running] = await service.getMany('dora', [id]);
    await store.updateGeneration(id, running!.version, { status: GenerationStatus.COMPLETED });
    queries = [];
    const [first] = await service.getMany('dora', [id]);
    const [second] = await service.getMany('dora', [id]);
    expect([first!.status, second!.status]).toEqual([GenerationStatus.COMPLETED, GenerationStatus.COMPLETED]);
    expect(queries).toEqual([['dora', id]]);
    expect((await service.getMany('eve', [id]))[0]).toBeNull(); // another owner still asks the store, and gets nothing
    expect(queries).toHaveLength(2);
  });
});
