/**
 * Subscriptions: ordered, gap-free, duplicate-free delivery (end to end and at the snapshot race),
 * fan-out to many watchers without extra upstream polls, the per-owner feed and its filter, and
 * errors for ids the caller cannot see.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { GenerationEvents } from '../../src/generations/events';
import { GenerationStatus, type Generation } from '../../src/model/generation';
import {
  CreateVideoGenerationDocument,
  VideoGenerationDocument,
  VideoGenerationUpdatedDocument,
  VideoGenerationsUpdatedDocument,
  collect,
  gqlData,
  sleep,
  waitFor,
  wsClient,
  type Collected,
  within,
  useGateway,
} from '../helpers/gateway';
import type { CreateVideoGenerationInput, GenerationStatus as Status } from '../../src/web/generated/graphql';

/** graphql-ws hands subscribe-time errors to the sink as an array of GraphQL errors. */
function errorCodes(errors: unknown[]): unknown[] {
  return errors.flat().map((e) => (e as { extensions?: { code?: unknown } })?.extensions?.code);
}

describe('GenerationEvents.watchGeneration (the snapshot race)', () => {
  const OWNER = 'alice';
  const ID = '00000000-0000-4000-8000-000000000001';

  function gen(version: number, status: GenerationStatus = GenerationStatus.GENERATING, owner = OWNER): Generation {
    return { id: ID, owner, version, status } as unknown as Generation;
  }

  /** Reads every value until the iterator ends, or fails after `ms`. */
  async function drain(it: AsyncIterableIterator<Generation>, ms = 2_000): Promise<number[]> {
    const versions: number[] = [];
    await within(
      'the watch to end',
      (async () => {
        for await (const g of it) versions.push(g.version);
      })(),
      ms,
    );
    return versions;
  }

  /** Takes exactly `n` values. */
  async function take(it: AsyncIterableIterator<Generation>, n: number): Promise<Generation[]> {
    const out: Generation[] = [];
    for (let i = 0; i < n; i++) {
      const r = await within(`value ${i + 1}`, it.next(), 2_000);
      if (r.done) break;
      out.push(r.value);
    }
    return out;
  }

  it('should emit an event published while the snapshot is being read exactly once, after the snapshot', async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => {
      events.publish(gen(3));
      await sleep(5);
      events.publish(gen(4, GenerationStatus.COMPLETED));
      return gen(2, GenerationStatus.QUEUED);
    });
    expect(await drain(it)).toEqual([2, 3, 4]);
  });

  it('should not repeat the snapshot when the same version was also published while it was read', async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => {
      events.publish(gen(2));
      events.publish(gen(3, GenerationStatus.COMPLETED));
      return gen(2);
    });
    expect(await drain(it)).toEqual([2, 3]);
  });

  it('should order events queued during the read by version even when they arrived out of order', async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => {
      events.publish(gen(5, GenerationStatus.COMPLETED));
      events.publish(gen(3));
      events.publish(gen(4));
      return gen(2);
    });
    expect(await drain(it)).toEqual([2, 3, 4, 5]);
  });

  it('should drop queued events older than a newer snapshot, then follow on from the snapshot', async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => {
      events.publish(gen(3)); // already queued when the (newer) snapshot is returned
      events.publish(gen(4));
      return gen(4);
    });
    const first = await take(it, 1);
    expect(first.map((g) => g.version)).toEqual([4]);
    events.publish(gen(3)); // a late duplicate of an old version
    events.publish(gen(4));
    events.publish(gen(5));
    events.publish(gen(6, GenerationStatus.FAILED));
    expect(await drain(it)).toEqual([5, 6]);
  });

  it('should complete right after a terminal snapshot and ignore later events', async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => gen(7, GenerationStatus.COMPLETED));
    expect(await drain(it)).toEqual([7]);
    events.publish(gen(8));
  });

  it("should ignore events carrying another owner's generation under the same id", async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => gen(2));
    expect((await take(it, 1)).map((g) => g.version)).toEqual([2]);
    events.publish(gen(9, GenerationStatus.COMPLETED, 'mallory'));
    events.publish(gen(3, GenerationStatus.COMPLETED));
    expect(await drain(it)).toEqual([3]);
  });

  it('should end at once when there is no snapshot', async () => {
    const events = new GenerationEvents();
    expect(await drain(events.watchGeneration(OWNER, ID, async () => null))).toEqual([]);
  });

  it('should stop listening when the watcher returns early', async () => {
    const events = new GenerationEvents();
    const it = events.watchGeneration(OWNER, ID, async () => gen(2));
    await take(it, 1);
    await it.return?.();
    events.publish(gen(3));
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});

describe('generation subscriptions over graphql-ws', () => {
  const gw = useGateway();
  let key: string;
  const clients: Client[] = [];
  const subs: Collected<any>[] = [];

  function client(k = key): Client {
    const c = wsClient(gw, k);
    clients.push(c);
    return c;
  }

  function watch(id: string, c: Client = client()): Collected<any> {
    const sub = collect(c, VideoGenerationUpdatedDocument, { id });
    subs.push(sub);
    return sub;
  }

  async function create(input: CreateVideoGenerationInput, k = key) {
    return (await gqlData(gw, k, CreateVideoGenerationDocument, { input })).createVideoGeneration;
  }

  /** The poller's own record, to know that a poll's answer has been stored. */
  async function stored(owner: string, id: string): Promise<Generation> {
    const [g] = await gw.app.store.getGenerations(owner, [id]);
    return g!;
  }

  beforeAll(async () => {
    key = await gw.keyFor('alice');
  });

  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  function expectWholeHistory(updates: any[]): void {
    const versions = updates.map((u) => u.version);
    // Every version from the snapshot's to the terminal one, each exactly once, in order.
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => versions[0] + i));
    const last = updates.at(-1);
    // The statuses the stream went through are exactly the stored transitions from the snapshot on.
    const streamed = updates.map((u) => u.status).filter((s, i, all) => i === 0 || s !== all[i - 1]);
    const storedStatuses = last.transitions.map((t: { status: string }) => t.status);
    expect(storedStatuses.slice(storedStatuses.lastIndexOf(streamed[0]))).toEqual(streamed);
    for (const u of updates.slice(0, -1)) expect(['QUEUED', 'GENERATING']).toContain(u.status);
  }

  it('should deliver every version in order, none missed and none doubled, for natural runs', async () => {
    const models: string[] = ['veo2', 'google/veo-3.0-fast', 'veo-3.1-lite-generate-001', 'google/veo-3.1-i2v-fast', 'google/veo3'];
    const gens = await Promise.all(
      models.map((model) =>
        create(model === 'google/veo-3.1-i2v-fast' ? { model, prompt: 'p', imageUrl: 'https://example.com/a.jpg' } : { model, prompt: 'p' }),
      ),
    );
    // Two watchers each, on separate connections.
    const watchers = gens.flatMap((g) => [watch(g.id), watch(g.id)]);
    await within('every watcher to complete', Promise.all(watchers.map((s) => s.done)), 10_000);
    for (const [i, s] of watchers.entries()) {
      expect(s.errors).toEqual([]);
      const updates = s.values.map((v) => v.videoGenerationUpdated);
      expect(updates.every((u) => u.id === gens[Math.floor(i / 2)].id)).toBe(true);
      expect(updates.at(-1).status).toBe('COMPLETED');
      expect(updates[0].version).toBeGreaterThanOrEqual(gens[Math.floor(i / 2)].version);
      expectWholeHistory(updates);
      const { videoGeneration } = await gqlData(gw, key, VideoGenerationDocument, { id: updates[0].id });
      expect(videoGeneration!.version).toBe(updates.at(-1).version);
    }
  });

  it('should deliver every visible change, raw upstream status changes included, step by step', async () => {
    const g = await create({ model: 'google/veo3', prompt: 'step by step' });
    const u = g.upstreamId! as string;
    gw.simulator.control.forceOutcome(u, 'pending');
    const sub = watch(g.id);
    const latest = () => sub.values.at(-1)?.videoGenerationUpdated;
    await waitFor('GENERATING', () => latest()?.status === 'GENERATING', 5_000, 5);
    const before = sub.values.length;
    const steps: Array<[Parameters<typeof gw.simulator.control.forceOutcome>[1], string, string]> = [
      [{ status: 'waiting' }, 'GENERATING', 'waiting'], // a queued-like status never moves back to QUEUED
      [{ status: 'mystery' }, 'GENERATING', 'mystery'],
      [{ status: 'processing' }, 'GENERATING', 'processing'],
      ['completed', 'COMPLETED', 'completed'],
    ];
    for (const [outcome, status, upstreamStatus] of steps) {
      gw.simulator.control.forceOutcome(u, outcome);
      await waitFor(`${upstreamStatus} to be seen`, () => latest()?.upstreamStatus === upstreamStatus && latest().status === status, 5_000, 5);
    }
    await within('the watcher to complete', sub.done, 5_000);
    expect(sub.errors).toEqual([]);
    const updates = sub.values.map((v) => v.videoGenerationUpdated);
    expect(updates.slice(before).map((x) => [x.status, x.upstreamStatus])).toEqual(steps.map(([, st, up]) => [st, up]));
    expect(updates.slice(0, before).map((x) => x.status)).not.toContain('COMPLETED');
    expectWholeHistory(updates);
    expect(updates.at(-1).transitions.map((t: { status: string }) => t.status)).toEqual(['QUEUED', 'GENERATING', 'COMPLETED']);
    expect(updates.at(-1).transitions.map((t: { upstreamStatus: string | null }) => t.upstreamStatus)).toEqual([null, 'generating', 'completed']);
  });

  it('should give a late subscriber the current state once, then complete, for an ended generation', async () => {
    const g = await create({ model: 'veo2', prompt: 'already done' });
    gw.simulator.control.forceOutcome(g.upstreamId!, 'completed');
    await waitFor('completion', async () => (await gqlData(gw, key, VideoGenerationDocument, { id: g.id })).videoGeneration?.status === 'COMPLETED');
    const sub = watch(g.id);
    await within('the watcher to complete', sub.done, 5_000);
    expect(sub.errors).toEqual([]);
    expect(sub.values).toHaveLength(1);
    expect(sub.values[0].videoGenerationUpdated.status).toBe('COMPLETED');
  });

  describe('fan-out', () => {
    it('should poll upstream no more with 50 watchers than with 1 or none, and end every watcher', async () => {
      // Three generations of one model, created at once, so the poll schedule (a function of the time
      // since creation only) is the same for all three; 0, 1 and 50 watchers on separate connections.
      // Each stays `generating` upstream until all watchers are attached and have seen at least two
      // more polls; then all three are let to complete in the same tick.
      const scenarios: Array<{ watchers: number; owner: string; k: string }> = [];
      for (const watchers of [0, 1, 50]) {
        const owner = `fan-${watchers}`;
        const k = await gw.keyFor(owner);
        scenarios.push({ watchers, owner, k });
      }
      const gens: Array<{ id: string; upstreamId: string }> = await Promise.all(
        scenarios.map(async ({ watchers, k }) => {
          const g = await create({ model: 'google/veo3', prompt: `fan-out ${watchers}` }, k);
          gw.simulator.control.forceOutcome(g.upstreamId!, 'pending');
          return { id: g.id, upstreamId: g.upstreamId! };
        }),
      );
      const polls = (i: number): number => gw.simulator.control.counts().pollsById[gens[i].upstreamId] ?? 0;
      const watching = scenarios.map(({ watchers, k }, i) => Array.from({ length: watchers }, () => watch(gens[i].id, client(k))));
      await waitFor('every snapshot', () => watching.flat().every((s) => s.values.length >= 1), 15_000);
      const attached = gens.map((_, i) => polls(i));
      await waitFor('two polls with every watcher attached', () => gens.every((_, i) => polls(i) >= attached[i]! + 2), 15_000, 1);
      for (const g of gens) gw.simulator.control.forceOutcome(g.upstreamId!, 'completed');

      await within('every watcher to complete', Promise.all(watching.flat().map((s) => s.done)), 15_000);
      await waitFor(
        'all three to complete',
        async () => (await Promise.all(scenarios.map(({ owner }, i) => stored(owner, gens[i].id)))).every((g) => g.status === 'COMPLETED'),
        10_000,
      );
      await sleep(200); // a stray poll would land now
      const [none, one, fifty] = gens.map((_, i) => polls(i));

      // Every upstream poll of each is one of the poller's own (none made for a watcher)...
      for (const [i, { owner }] of scenarios.entries()) {
        expect(polls(i)).toBe((await stored(owner, gens[i].id)).pollCount);
      }
      // ...and watchers change nothing: the counts match the unwatched one's, up to what the three
      // creations' spread allows. Polls of one generation are at least POLL_MIN_INTERVAL_MS (scaled)
      // apart, so two whose schedules are `spread` ms out of step differ by at most spread / that gap,
      // plus one at each end (a poll may land just before its outcome changed and another's just after).
      // A busy machine spreads the creations further, and the tolerance follows; a poll per watcher
      // would add 50.
      const created = await Promise.all(scenarios.map(({ owner }, i) => stored(owner, gens[i].id)));
      const spread = Math.max(...created.map((g) => g.createdAt.getTime())) - Math.min(...created.map((g) => g.createdAt.getTime()));
      const tolerance = 2 + Math.ceil(spread / (gw.app.config.poll.minIntervalMs * gw.app.config.timeScale));
      expect(tolerance).toBeLessThan(50); // else the counts could not tell a poll per watcher apart
      expect(Math.abs(one! - none!)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(fifty! - none!)).toBeLessThanOrEqual(tolerance);
      expect(none).toBeGreaterThanOrEqual(3);

      for (const s of watching.flat()) {
        expect(s.errors).toEqual([]);
        const updates = s.values.map((v) => v.videoGenerationUpdated);
        expect(updates.at(-1).status).toBe('COMPLETED');
        expect(updates.at(-1).video.url).toEqual(expect.any(String));
        expectWholeHistory(updates);
      }
      // All fifty saw the same terminal state, though the timing learner learns from these very
      // completions while the copies are resolved: an ended generation reports no estimate.
      const terminal = watching[2]!.map((s) => JSON.stringify(s.values.at(-1).videoGenerationUpdated));
      expect(new Set(terminal).size).toBe(1);
    });
  });

  describe('videoGenerationsUpdated', () => {
    const barriers = new Map<string, string>();

    /** A cancelled generation of this key's owner, to watch as a barrier. */
    async function barrierFor(k: string): Promise<string> {
      let id = barriers.get(k);
      if (!id) {
        id = (await create({ model: 'veo2', prompt: 'barrier' }, k)).id as string;
        await gqlData(gw, k, 'mutation($id: ID!) { cancelVideoGeneration(id: $id) { id } }', { id });
        barriers.set(k, id);
      }
      return id;
    }

    /**
     * Subscribes, then makes sure the server has set the feed up before the test goes on: a watch
     * sent after it on the same connection has completed (and a moment more for good measure).
     */
    async function feed(k: string, status?: Status[]) {
      const barrier = await barrierFor(k);
      const c = client(k);
      const sub = collect(c, VideoGenerationsUpdatedDocument, status ? { status } : {});
      subs.push(sub);
      const b = watch(barrier, c);
      await within('the barrier watch', b.done, 5_000);
      expect(b.values.map((v) => v.videoGenerationUpdated.status)).toEqual(['CANCELLED']);
      await sleep(50);
      return { sub };
    }

    it("should deliver changes of only the caller's generations, with the optional status filter", async () => {
      const bobKey = await gw.keyFor('bob');
      const carolKey = await gw.keyFor('carol');
      const all = await feed(carolKey);
      const completed = await feed(carolKey, ['COMPLETED']);
      const ended = await feed(carolKey, ['FAILED', 'CANCELLED']);
      const bobs = await feed(bobKey);

      const ok = await create({ model: 'veo-3.1-lite-generate-001', prompt: 'carol ok' }, carolKey);
      const bad = await create({ model: 'veo-3.1-lite-generate-001', prompt: 'carol bad' }, carolKey);
      const bob = await create({ model: 'veo-3.1-lite-generate-001', prompt: 'bob' }, bobKey);
      gw.simulator.control.forceOutcome(bad.upstreamId!, 'error');
      await waitFor(
        'all three to end',
        async () => {
          const [a, b, c] = await Promise.all([stored('carol', ok.id), stored('carol', bad.id), stored('bob', bob.id)]);
          return [a, b, c].every((x) => ['COMPLETED', 'FAILED'].includes(x.status));
        },
        10_000,
      );
      await sleep(100);

      const ids = (s: Collected<any>) => s.values.map((v) => v.videoGenerationsUpdated.id);
      const updates = (s: Collected<any>) => s.values.map((v) => v.videoGenerationsUpdated);
      for (const s of [all.sub, completed.sub, ended.sub, bobs.sub]) expect(s.errors).toEqual([]);

      // Carol's unfiltered feed: both of hers, every change, none of Bob's; each id in version order.
      expect(new Set(ids(all.sub))).toEqual(new Set([ok.id, bad.id]));
      for (const id of [ok.id, bad.id]) {
        const versions = updates(all.sub)
          .filter((u) => u.id === id)
          .map((u) => u.version);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(new Set(versions).size).toBe(versions.length);
        expect(versions.length).toBeGreaterThanOrEqual(2);
      }
      const okEnd = updates(all.sub)
        .filter((u) => u.id === ok.id)
        .at(-1);
      const badEnd = updates(all.sub)
        .filter((u) => u.id === bad.id)
        .at(-1);
      expect(okEnd.status).toBe('COMPLETED');
      expect(badEnd.status).toBe('FAILED');

      // The filtered feeds: only the changes that reached those statuses.
      expect(updates(completed.sub).map((u) => [u.id, u.status])).toEqual([[ok.id, 'COMPLETED']]);
      expect(updates(ended.sub).map((u) => [u.id, u.status])).toEqual([[bad.id, 'FAILED']]);

      // Bob's feed: only his.
      expect(new Set(ids(bobs.sub))).toEqual(new Set([bob.id]));
      expect(updates(bobs.sub).at(-1).status).toBe('COMPLETED');
      expect(all.sub.values.some((v) => v.videoGenerationsUpdated.id === bob.id)).toBe(false);
    });
  });

  describe('errors', () => {
    it('should answer NOT_FOUND for an unknown id', async () => {
      const sub = watch(randomUUID());
      await within('the error', sub.done, 5_000);
      expect(sub.values).toEqual([]);
      expect(errorCodes(sub.errors)).toEqual(['NOT_FOUND']);
    });

    it('should answer NOT_FOUND for an id that is not a UUID', async () => {
      const sub = watch('not-an-id');
      await within('the error', sub.done, 5_000);
      expect(sub.values).toEqual([]);
      expect(errorCodes(sub.errors)).toEqual(['NOT_FOUND']);
    });

    it("should answer NOT_FOUND for another owner's generation, exactly like an unknown one", async () => {
      const g = await create({ model: 'veo2', prompt: 'private' });
      const mallory = await gw.keyFor('mallory');
      const sub = watch(g.id, client(mallory));
      await within('the error', sub.done, 5_000);
      expect(sub.values).toEqual([]);
      expect(errorCodes(sub.errors)).toEqual(['NOT_FOUND']);
    });
  });
});
