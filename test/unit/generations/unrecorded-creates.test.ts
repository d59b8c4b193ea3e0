import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { GenerationEvents } from '../../../src/generations/events';
import { GenerationErrorCode, GenerationStatus, type Generation } from '../../../src/model/generation';
import { UnrecordedCreates } from '../../../src/generations/unrecorded-creates';
import { databaseUnavailable } from '../../../src/store/database-unavailable';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import { START_TIMEOUT_MS } from '../../helpers/timeouts';

let store: Store;
beforeAll(async () => {
  store = createPgliteStore();
  await store.start();
}, START_TIMEOUT_MS);
afterAll(async () => {
  await store.stop();
});

/** The real store, except that `updateGeneration` fails while `down` is set (a database outage). */
function flaky(): { store: Store; outage: { down: boolean } } {
  const outage = { down: true };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === 'updateGeneration') {
        return (...args: Parameters<Store['updateGeneration']>) =>
          outage.down ? Promise.reject(databaseUnavailable()) : target.updateGeneration(...args);
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, outage };
}

async function inserted(): Promise<Generation> {
  const now = new Date();
  const { generation } = await store.insertGeneration({
    id: randomUUID(),
    owner: 'alice',
    input: { model: 'google/veo3', prompt: 'p' },
    inputHash: 'h',
    idempotencyKey: null,
    status: GenerationStatus.QUEUED,
    createdAt: now,
    deadlineAt: new Date(now.getTime() + 600_000),
  });
  return generation;
}

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('UnrecordedCreates', () => {
  it('writes the upstream answer once the store is back, and publishes it', async () => {
    const { store: s, outage } = flaky();
    const events = new GenerationEvents();
    const published: Generation[] = [];
    const publish = events.publish.bind(events);
    events.publish = (g) => {
      published.push(g);
      publish(g);
    };
    const pending = new UnrecordedCreates({ store: s, events, log: pino({ level: 'silent' }), retryForMs: 60_000 });
    const g = await inserted();
    const nextPollAt = new Date(Date.now() + 60_000);
    const answered = pending.keep(g, { upstreamId: 'up-1', upstreamStatus: 'queued' }, { nextPollAt }, databaseUnavailable());
    expect(answered).toMatchObject({ id: g.id, upstreamId: 'up-1', version: g.version + 1, status: GenerationStatus.QUEUED });
    expect(pending.get(g.id)).toBe(answered);

    await new Promise((r) => setTimeout(r, 400));
    expect((await store.getGeneration(g.id))!.upstreamId).toBeNull();
    outage.down = false;
    const stored = await until(
      'the write',
      async () => (await store.getGeneration(g.id))?.upstreamId === 'up-1' && (await store.getGeneration(g.id)),
    );
    expect(stored).toMatchObject({ upstreamId: 'up-1', version: g.version + 1, nextPollAt });
    await until('the publish', async () => published.length === 1);
    expect(pending.size).toBe(0);
    pending.stop();
  });

  it('overrides a stale-submission sweep that ended it CREATE_OUTCOME_UNKNOWN meanwhile', async () => {
    const { store: s, outage } = flaky();
    const pending = new UnrecordedCreates({ store: s, events: new GenerationEvents(), log: pino({ level: 'silent' }), retryForMs: 60_000 });
    const g = await inserted();
    pending.keep(g, { upstreamId: 'up-2', upstreamStatus: 'queued' }, { nextPollAt: new Date() }, databaseUnavailable());
    // The sweep (another instance, or this one's poller) gets there first.
    const swept = await store.updateGeneration({
      id: g.id,
      expectedVersion: g.version,
      change: {
        status: GenerationStatus.FAILED,
        completedAt: new Date(),
        error: { code: GenerationErrorCode.CREATE_OUTCOME_UNKNOWN, message: 'stopped while creating' },
      },
    });
    expect(swept?.status).toBe(GenerationStatus.FAILED);
    outage.down = false;
    const stored = await until('the reconciled write', async () => {
      const row = await store.getGeneration(g.id);
      return row?.upstreamId === 'up-2' ? row : null;
    });
    expect(stored).toMatchObject({ status: GenerationStatus.QUEUED, error: null, completedAt: null });
    expect(stored.nextPollAt).toBeInstanceOf(Date);
    pending.stop();
  });

  it('gives up after retryForMs and logs the upstream id', async () => {
    const { store: s } = flaky();
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const pending = new UnrecordedCreates({ store: s, events: new GenerationEvents(), log, retryForMs: 300 });
    const g = await inserted();
    pending.keep(g, { upstreamId: 'up-3' }, { nextPollAt: new Date() }, databaseUnavailable());
    await until('giving up', async () => pending.size === 0, 5_000);
    expect(lines.some((l) => l.includes('gave up recording') && l.includes('up-3'))).toBe(true);
    pending.stop();
  });
});
