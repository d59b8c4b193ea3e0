import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationStatus, MediaCopyErrorCode, MediaCopyState, type Generation } from '../../../src/model/generation';
import pg from 'pg';
import { createPgStore, pgDriver } from '../../../src/store/pg-store';
import { pgliteDriver } from '../../../src/store/pglite-driver';
import { createPgliteStore } from '../../../src/store/pglite-store';
import { createInMemoryPglite } from '../../../src/store/pglite-template';
import { migrations } from '../../../src/store/migrations';
import { deleteGeneration, deleteOwnedGeneration } from '../../../src/store/sql/generations/delete';
import { insertGeneration } from '../../../src/store/sql/generations/insert';
import { updateGeneration } from '../../../src/store/sql/generations/update';
import { migrate } from '../../../src/store/sql/migrate';
import type { SqlDriver } from '../../../src/store/sql/session';
import { countByStatus, usageGroups } from '../../../src/store/sql/statistics/select';
import { missingServices, startPostgres, type PostgresServer } from '../../helpers/services';
import { webhookEndpointRecord } from '../../helpers/webhook-endpoint-record';
import type { NewGeneration, Store } from '../../../src/store/store';
import { WebhookDeliveryStatus, WebhookEventType, type WebhookEndpoint } from '../../../src/model/webhook';

function endpoint(id: string, overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return webhookEndpointRecord({ id, createdAt: T0, updatedAt: T0, ...overrides });
}

const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

let counter = 0;
function newGeneration(overrides: Partial<NewGeneration> = {}): NewGeneration {
  counter += 1;
  return {
    id: `gen-${String(counter).padStart(4, '0')}`,
    owner: 'alice',
    input: { model: 'google/veo3', prompt: 'a cat', durationSeconds: 8 },
    inputHash: 'hash',
    idempotencyKey: null,
    status: GenerationStatus.QUEUED,
    createdAt: at(counter),
    deadlineAt: at(counter + 600),
    ...overrides,
  };
}

/** An in-flight generation that the poller should look at from `dueAt`. */
async function insertDue(store: Store, dueAt: Date, overrides: Partial<NewGeneration> = {}): Promise<Generation> {
  const { generation } = await store.insertGeneration(newGeneration(overrides));
  const updated = await store.updateGeneration({
    id: generation.id,
    expectedVersion: 1,
    change: { upstreamId: `up-${generation.id}` },
    bookkeeping: { nextPollAt: dueAt },
  });
  return updated!;
}

/**
 * The same tests on both drivers prove the same SQL works embedded and on a real PostgreSQL 15
 * (started here when it is installed; CI has it).
 */
const missing = missingServices();
if (missing) console.warn(`\n!!! SqlStore tests run on PGlite only: ${missing} not installed.\n`);
const drivers = missing ? ['PGlite'] : ['PGlite', 'PostgreSQL'];

describe.each(drivers)('SqlStore on %s', (driver) => {
  let store: Store;
  let server: PostgresServer | null = null;

  beforeAll(async () => {
    if (driver === 'PostgreSQL') server = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    await server?.destroy();
  });

  beforeEach(async () => {
    if (server) {
      store = createPgStore({ connectionString: server.url });
      await store.start();
      // Each test starts from empty tables, as it does on a fresh in-memory PGlite.
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('TRUNCATE generations, api_keys, webhook_endpoints, webhook_deliveries, media_copies, deleted_usage');
      await admin.end();
    } else {
      store = createPgliteStore({});
      await store.start();
    }
  }, 60_000); // a fresh PGlite per test, which a loaded machine can take many seconds to start

  afterEach(async () => {
    await store.stop();
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('inserts and reads a generation, scoped to its owner', async () => {
    const g = newGeneration({ idempotencyKey: 'k1' });
    const { inserted, generation } = await store.insertGeneration(g);
    expect(inserted).toBe(true);
    expect(generation).toMatchObject({
      id: g.id,
      owner: 'alice',
      input: g.input,
      inputHash: 'hash',
      idempotencyKey: 'k1',
      status: GenerationStatus.QUEUED,
      upstreamId: null,
      upstreamStatus: null,
      video: null,
      error: null,
      usage: null,
      completedAt: null,
      version: 1,
      nextPollAt: null,
      pollCount: 0,
      pollFailures: 0,
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(generation.createdAt).toEqual(g.createdAt);
    expect(generation.updatedAt).toEqual(g.createdAt);
    expect(generation.deadlineAt).toEqual(g.deadlineAt);
    expect(generation.transitions).toEqual([{ status: GenerationStatus.QUEUED, upstreamStatus: null, at: g.createdAt }]);

    expect(await store.getGeneration(g.id)).toEqual(generation);
    expect(await store.getGenerations('alice', [g.id, 'missing'])).toEqual([generation]);
    expect(await store.getGenerations('bob', [g.id])).toEqual([]);
    expect(await store.getGenerations('alice', [])).toEqual([]);
    expect(await store.getGeneration('missing')).toBeNull();
    expect(await store.findByIdempotencyKey('alice', 'k1')).toEqual(generation);
    expect(await store.findByIdempotencyKey('bob', 'k1')).toBeNull();
  });

  it('returns the existing row for a repeated idempotency key, even under concurrent inserts', async () => {
    const attempts = Array.from({ length: 5 }, () => newGeneration({ idempotencyKey: 'same' }));
    const results = await Promise.all(attempts.map((g) => store.insertGeneration(g)));
    const inserted = results.filter((r) => r.inserted);
    expect(inserted).toHaveLength(1);
    for (const r of results) expect(r.generation.id).toBe(inserted[0]!.generation.id);

    // The same key under another owner is a different generation.
    const other = await store.insertGeneration(newGeneration({ owner: 'bob', idempotencyKey: 'same' }));
    expect(other.inserted).toBe(true);
    // Null keys never collide.
    expect((await store.insertGeneration(newGeneration())).inserted).toBe(true);
    expect((await store.insertGeneration(newGeneration())).inserted).toBe(true);
  });

  it('lists newest first with keyset paging and filters', async () => {
    const created: Generation[] = [];
    for (let i = 0; i < 5; i++) {
      const model = i % 2 === 0 ? 'google/veo3' : 'veo2';
      created.push((await store.insertGeneration(newGeneration({ input: { model, prompt: `p${i}` } }))).generation);
    }
    // Same createdAt as the newest: the id breaks the tie.
    const twin = (await store.insertGeneration(newGeneration({ createdAt: created[4]!.createdAt, input: { model: 'veo2', prompt: 't' } })))
      .generation;
    await store.insertGeneration(newGeneration({ owner: 'bob' }));
    await store.updateGeneration({ id: created[1]!.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED } });

    const newestFirst = [twin, ...created.slice().reverse()].map((g) => g.id);
    // Pages are keys (id, version); the cursor is the last row's createdAt and id, as the service keeps them.
    const byId = new Map([twin, ...created].map((g) => [g.id, g]));
    const ids = (page: readonly { id: string }[]) => page.map((g) => g.id);
    const page1 = await store.listGenerationKeys({ owner: 'alice', limit: 4 });
    expect(ids(page1)).toEqual(newestFirst.slice(0, 4));
    const last = byId.get(page1[page1.length - 1]!.id)!;
    const page2 = await store.listGenerationKeys({ owner: 'alice', limit: 4, before: { createdAt: last.createdAt, id: last.id } });
    expect(ids(page2)).toEqual(newestFirst.slice(4));

    const completed = await store.listGenerationKeys({ owner: 'alice', limit: 10, statuses: [GenerationStatus.COMPLETED] });
    expect(ids(completed)).toEqual([created[1]!.id]);
    const queuedVeo2 = await store.listGenerationKeys({
      owner: 'alice',
      limit: 10,
      statuses: [GenerationStatus.QUEUED],
      models: ['veo2'],
    });
    expect(ids(queuedVeo2)).toEqual([twin.id, created[3]!.id]);
    expect(await store.listGenerationKeys({ owner: 'alice', limit: 10, statuses: [], models: [] })).toHaveLength(6);

    // Each key carries the row's current version.
    const keys = await store.listGenerationKeys({ owner: 'alice', limit: 10, models: ['veo2'] });
    expect(keys).toEqual([
      { id: twin.id, version: 1 },
      { id: created[3]!.id, version: 1 },
      { id: created[1]!.id, version: 2 },
    ]);
  });

  it("finds an owner's generations changed since a moment, oldest change first, the most recent when limited", async () => {
    const a = (await store.insertGeneration(newGeneration({ createdAt: at(1) }))).generation;
    const b = (await store.insertGeneration(newGeneration({ createdAt: at(2) }))).generation;
    const bobs = (await store.insertGeneration(newGeneration({ owner: 'bob', createdAt: at(3) }))).generation;
    await store.updateGeneration({ id: a.id, expectedVersion: 1, change: { status: GenerationStatus.GENERATING }, at: at(100) });
    await store.updateGeneration({ id: b.id, expectedVersion: 1, change: { status: GenerationStatus.GENERATING }, at: at(50) });
    await store.updateGeneration({
      id: bobs.id,
      expectedVersion: 1,
      change: { status: GenerationStatus.GENERATING },
      at: at(60),
    });

    const changed = await store.changedSince('alice', at(40), 10);
    expect(changed.map((g) => [g.id, g.version])).toEqual([
      [b.id, 2],
      [a.id, 2],
    ]);
    expect((await store.changedSince('alice', at(40), 1)).map((g) => g.id)).toEqual([a.id]);
    expect(await store.changedSince('alice', at(101), 10)).toEqual([]);
  });

  it('updates only at the expected version, bumping it by one and recording status transitions', async () => {
    const { generation } = await store.insertGeneration(newGeneration());

    const v2 = await store.updateGeneration({
      id: generation.id,
      expectedVersion: 1,
      change: { upstreamId: 'up-1', upstreamStatus: 'queued' },
      bookkeeping: { nextPollAt: at(100), pollCount: 1 },
      at: at(50),
    });
    expect(v2).toMatchObject({ version: 2, upstreamId: 'up-1', upstreamStatus: 'queued', nextPollAt: at(100), pollCount: 1 });
    expect(v2!.updatedAt).toEqual(at(50));
    expect(v2!.transitions).toHaveLength(1);

    // Stale version: nothing changes.
    expect(
      await store.updateGeneration({
        id: generation.id,
        expectedVersion: 1,
        change: { status: GenerationStatus.FAILED },
      }),
    ).toBeNull();
    expect((await store.getGeneration(generation.id))!.version).toBe(2);

    const v3 = await store.updateGeneration({
      id: generation.id,
      expectedVersion: 2,
      change: { status: GenerationStatus.GENERATING, upstreamStatus: 'generating' },
      at: at(60),
    });
    expect(v3!.version).toBe(3);
    expect(v3!.transitions).toEqual([
      { status: GenerationStatus.QUEUED, upstreamStatus: null, at: generation.createdAt },
      { status: GenerationStatus.GENERATING, upstreamStatus: 'generating', at: at(60) },
    ]);

    // The same status again is a change of other fields, not a transition.
    const v4 = await store.updateGeneration({
      id: generation.id,
      expectedVersion: 3,
      change: { status: GenerationStatus.GENERATING, usage: { credits: 1, usd: null } },
    });
    expect(v4!.version).toBe(4);
    expect(v4!.transitions).toHaveLength(2);
    expect(v4!.usage).toEqual({ credits: 1, usd: null });

    // Without an upstream status in the change, the transition carries the current one.
    const video = { url: 'https://cdn/x.mp4', contentType: 'video/mp4', fileName: null, sizeBytes: 10 };
    const v5 = await store.updateGeneration({
      id: generation.id,
      expectedVersion: 4,
      change: { status: GenerationStatus.COMPLETED, video, completedAt: at(70), usage: undefined },
      bookkeeping: { nextPollAt: null, leaseOwner: null, leaseUntil: null },
      at: at(70),
    });
    expect(v5).toMatchObject({ version: 5, status: GenerationStatus.COMPLETED, video, completedAt: at(70), nextPollAt: null });
    expect(v5!.usage).toEqual({ credits: 1, usd: null });
    expect(v5!.transitions[2]).toEqual({ status: GenerationStatus.COMPLETED, upstreamStatus: 'generating', at: at(70) });

    // null clears.
    const v6 = await store.updateGeneration({
      id: generation.id,
      expectedVersion: 5,
      change: { video: null, error: { code: 'NO_VIDEO' as never, message: 'm', upstream: { a: [1] } } },
    });
    expect(v6).toMatchObject({ version: 6, video: null, error: { code: 'NO_VIDEO', message: 'm', upstream: { a: [1] } } });
    expect(await store.getGeneration(generation.id)).toEqual(v6);
  });

  it('updates bookkeeping only for the lease holder, without bumping the version', async () => {
    const g = await insertDue(store, at(0));
    const [claimed] = await store.claimDueGenerations('poller-a', at(1), 30_000, 10);
    expect(claimed!.id).toBe(g.id);
    expect(claimed!.leaseEpoch).toBe(g.leaseEpoch + 1);
    const lease = { owner: 'poller-a', epoch: claimed!.leaseEpoch };

    expect(await store.updateBookkeeping(g.id, { owner: 'poller-b', epoch: lease.epoch }, { nextPollAt: at(99) })).toBe(false);
    expect(await store.updateBookkeeping(g.id, lease, { nextPollAt: at(20), pollFailures: 2 })).toBe(true);
    const after = (await store.getGeneration(g.id))!;
    expect(after).toMatchObject({ nextPollAt: at(20), pollFailures: 2, version: g.version, leaseOwner: 'poller-a' });

    // Releasing the lease ends it.
    expect(await store.updateBookkeeping(g.id, lease, { leaseOwner: null, leaseUntil: null })).toBe(true);
    expect(await store.updateBookkeeping(g.id, lease, { pollCount: 5 })).toBe(false);
    expect(await store.updateBookkeeping('missing', lease, {})).toBe(false);
  });

  it('claims only due, in-flight, unleased rows, and never the same row twice', async () => {
    const due1 = await insertDue(store, at(0));
    const due2 = await insertDue(store, at(5));
    const due3 = await insertDue(store, at(3));
    await insertDue(store, at(100)); // not yet due
    await store.insertGeneration(newGeneration()); // no nextPollAt: still submitting
    const done = await insertDue(store, at(0));
    await store.updateGeneration({ id: done.id, expectedVersion: done.version, change: { status: GenerationStatus.COMPLETED } });

    const [a, b] = await Promise.all([
      store.claimDueGenerations('poller-a', at(10), 30_000, 2),
      store.claimDueGenerations('poller-b', at(10), 30_000, 2),
    ]);
    const ids = [...a!, ...b!].map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([due1.id, due2.id, due3.id].sort());
    for (const g of a!) expect(g).toMatchObject({ leaseOwner: 'poller-a', leaseUntil: at(40) });
    for (const g of b!) expect(g).toMatchObject({ leaseOwner: 'poller-b', leaseUntil: at(40) });
    // Most overdue first within a claim.
    const first = a!.length === 2 ? a! : b!;
    expect(first[0]!.nextPollAt!.getTime()).toBeLessThanOrEqual(first[1]!.nextPollAt!.getTime());

    // Leased rows are not claimed again while the lease lasts...
    expect(await store.claimDueGenerations('poller-c', at(20), 30_000, 10)).toEqual([]);
    // ...and are taken over once it has expired.
    const takenOver = await store.claimDueGenerations('poller-c', at(41), 30_000, 10);
    expect(takenOver.map((g) => g.id).sort()).toEqual([due1.id, due2.id, due3.id].sort());
    expect(takenOver.every((g) => g.leaseOwner === 'poller-c')).toBe(true);
    // The old holder has lost it.
    const old = [...a!, ...b!].find((g) => g.id === due1.id)!;
    expect(await store.updateBookkeeping(due1.id, { owner: old.leaseOwner!, epoch: old.leaseEpoch }, { pollCount: 9 })).toBe(false);
    expect(await store.claimDueGenerations('poller-d', at(41), 30_000, 0)).toEqual([]);
  });

  it("drops every write of a poller whose lease was taken over, leaving the new owner's lease intact", async () => {
    const g = await insertDue(store, at(0));
    const [first] = await store.claimDueGenerations('poller-a', at(1), 30_000, 10);
    const stale = { owner: 'poller-a', epoch: first!.leaseEpoch };
    // poller-a stalls past its lease; poller-b takes the generation over.
    const [takenOver] = await store.claimDueGenerations('poller-b', at(40), 30_000, 10);
    expect(takenOver).toMatchObject({ id: g.id, leaseOwner: 'poller-b', leaseUntil: at(70), leaseEpoch: stale.epoch + 1 });
    const current = { owner: 'poller-b', epoch: takenOver!.leaseEpoch };
    const release = { leaseOwner: null, leaseUntil: null };

    // The late poller's result, its reschedule, its release and its renewal all change nothing,
    // although the version still matches (poller-b has not written yet).
    expect(
      await store.updateGeneration({
        id: g.id,
        expectedVersion: g.version,
        change: { status: GenerationStatus.GENERATING, upstreamStatus: 'generating' },
        bookkeeping: { nextPollAt: at(50), pollCount: 1, ...release },
        at: at(45),
        lease: stale,
      }),
    ).toBeNull();
    expect(
      await store.updateGeneration({
        id: g.id,
        expectedVersion: g.version,
        change: { status: GenerationStatus.TIMED_OUT, completedAt: at(45) },
        bookkeeping: { nextPollAt: null, ...release },
        at: at(45),
        lease: stale,
      }),
    ).toBeNull();
    expect(await store.updateBookkeeping(g.id, stale, { nextPollAt: at(50), pollFailures: 1, ...release })).toBe(false);
    expect(await store.updateBookkeeping(g.id, stale, release)).toBe(false);
    expect(await store.updateBookkeeping(g.id, stale, { leaseUntil: at(99) })).toBe(false);
    expect(await store.getGeneration(g.id)).toEqual(takenOver);

    // The new owner proceeds as if nothing happened.
    expect(await store.updateBookkeeping(g.id, current, { leaseUntil: at(80) })).toBe(true);
    const done = await store.updateGeneration({
      id: g.id,
      expectedVersion: g.version,
      change: { status: GenerationStatus.GENERATING, upstreamStatus: 'generating' },
      bookkeeping: { nextPollAt: at(50), pollCount: 1, ...release },
      at: at(46),
      lease: current,
    });
    expect(done).toMatchObject({ version: g.version + 1, status: GenerationStatus.GENERATING, pollCount: 1, leaseOwner: null, leaseUntil: null });
    expect(done!.transitions.map((t) => t.status)).toEqual([GenerationStatus.QUEUED, GenerationStatus.GENERATING]);
    // Once released, neither lease holds any more.
    expect(await store.updateBookkeeping(g.id, current, { pollCount: 7 })).toBe(false);
  });

  it('releases many leases in one write, each only while its lease is held: a taken-over or re-claimed one is left alone', async () => {
    const [g1, g2, g3] = [await insertDue(store, at(0)), await insertDue(store, at(0)), await insertDue(store, at(0))];
    const claimed = await store.claimDueGenerations('poller-a', at(1), 30_000, 10);
    const epoch = (id: string) => claimed.find((g) => g.id === id)!.leaseEpoch;
    // g2's lease expires and poller-b takes it over; g3 is re-claimed by poller-a itself (a new epoch).
    await store.updateBookkeeping(g1!.id, { owner: 'poller-a', epoch: epoch(g1!.id) }, { leaseUntil: at(100) });
    await store.updateBookkeeping(g3!.id, { owner: 'poller-a', epoch: epoch(g3!.id) }, { leaseOwner: null, leaseUntil: null });
    const [takenOver] = await store.claimDueGenerations('poller-b', at(40), 30_000, 1);
    expect(takenOver!.id).toBe(g2!.id);
    const [reclaimed] = await store.claimDueGenerations('poller-a', at(41), 30_000, 1);
    expect(reclaimed!.id).toBe(g3!.id);

    const release = (id: string, n: number) => ({ id, epoch: epoch(id), nextPollAt: at(60 + n), pollCount: n, pollFailures: n - 1 });
    const released = await store.releasePolled('poller-a', [release(g1!.id, 1), release(g2!.id, 2), release(g3!.id, 3)]);
    expect([...released]).toEqual([g1!.id]);
    expect(await store.getGeneration(g1!.id)).toMatchObject({
      nextPollAt: at(61),
      pollCount: 1,
      pollFailures: 0,
      leaseOwner: null,
      leaseUntil: null,
      version: g1!.version,
    });
    expect(await store.getGeneration(g2!.id)).toEqual(takenOver);
    expect(await store.getGeneration(g3!.id)).toEqual(reclaimed);
    // Another owner's release of the new holders' leases changes nothing either; an empty batch is no write.
    expect(await store.releasePolled('poller-c', [{ ...release(g2!.id, 4), epoch: takenOver!.leaseEpoch }])).toEqual(new Set());
    expect(await store.releasePolled('poller-a', [])).toEqual(new Set());
    expect(await store.getGeneration(g2!.id)).toEqual(takenOver);
  });

  it('fences an earlier claim of the same instance, and keeps an expired lease nobody took over', async () => {
    const g = await insertDue(store, at(0));
    const [first] = await store.claimDueGenerations('poller-a', at(1), 30_000, 10);
    const earlier = { owner: 'poller-a', epoch: first!.leaseEpoch };
    // Long past its expiry, nobody has claimed it: it is still poller-a's.
    expect(await store.updateBookkeeping(g.id, earlier, { pollCount: 1 })).toBe(true);

    // poller-a itself claims it again (its own earlier poll stalled): the earlier claim is fenced off.
    const [second] = await store.claimDueGenerations('poller-a', at(100), 30_000, 10);
    expect(second!.leaseEpoch).toBe(earlier.epoch + 1);
    expect(
      await store.updateGeneration({
        id: g.id,
        expectedVersion: g.version,
        change: { status: GenerationStatus.GENERATING },
        at: at(101),
        lease: earlier,
      }),
    ).toBeNull();
    expect(await store.updateBookkeeping(g.id, earlier, { leaseOwner: null, leaseUntil: null })).toBe(false);
    expect(await store.getGeneration(g.id)).toEqual(second);
    const later = { owner: 'poller-a', epoch: second!.leaseEpoch };
    expect(
      await store.updateGeneration({
        id: g.id,
        expectedVersion: g.version,
        change: { status: GenerationStatus.GENERATING },
        at: at(101),
        lease: later,
      }),
    ).toMatchObject({
      version: g.version + 1,
      leaseOwner: 'poller-a',
    });
  });

  it('lets a write without a lease (a cancel) win over a leased poll, which can still release its lease', async () => {
    const g = await insertDue(store, at(0));
    const [claimed] = await store.claimDueGenerations('poller-a', at(1), 30_000, 10);
    const lease = { owner: 'poller-a', epoch: claimed!.leaseEpoch };

    const cancelled = await store.updateGeneration({
      id: g.id,
      expectedVersion: g.version,
      change: { status: GenerationStatus.CANCELLED, completedAt: at(2) },
      bookkeeping: { nextPollAt: null },
      at: at(2),
    });
    expect(cancelled).toMatchObject({ version: g.version + 1, status: GenerationStatus.CANCELLED, leaseOwner: 'poller-a' });

    // The poll in flight loses the version race, then releases the lease it still holds.
    expect(
      await store.updateGeneration({
        id: g.id,
        expectedVersion: g.version,
        change: { status: GenerationStatus.COMPLETED },
        bookkeeping: { leaseOwner: null, leaseUntil: null },
        at: at(3),
        lease,
      }),
    ).toBeNull();
    expect(await store.updateBookkeeping(g.id, lease, { leaseOwner: null, leaseUntil: null })).toBe(true);
    expect(await store.getGeneration(g.id)).toMatchObject({ status: GenerationStatus.CANCELLED, version: cancelled!.version, leaseOwner: null });
  });

  it('reports the next due time among in-flight rows', async () => {
    expect(await store.nextDueAt()).toBeNull();
    const early = await insertDue(store, at(30));
    await insertDue(store, at(50));
    expect(await store.nextDueAt()).toEqual(at(30));
    await store.updateGeneration({
      id: early.id,
      expectedVersion: early.version,
      change: { status: GenerationStatus.CANCELLED },
    });
    expect(await store.nextDueAt()).toEqual(at(50));
  });

  it('finds stale submissions and deletes generations', async () => {
    const stale = (await store.insertGeneration(newGeneration({ createdAt: at(-100) }))).generation;
    const staleGenerating = (await store.insertGeneration(newGeneration({ createdAt: at(-90) }))).generation;
    await store.updateGeneration({ id: staleGenerating.id, expectedVersion: 1, change: { status: GenerationStatus.GENERATING } });
    await store.insertGeneration(newGeneration({ createdAt: at(1000) })); // too recent
    await insertDue(store, at(0), { createdAt: at(-80) }); // has an upstream id
    const failed = (await store.insertGeneration(newGeneration({ createdAt: at(-70) }))).generation;
    await store.updateGeneration({ id: failed.id, expectedVersion: 1, change: { status: GenerationStatus.FAILED } });

    const found = await store.findStaleSubmissions(at(0));
    expect(found.map((g) => g.id)).toEqual([stale.id, staleGenerating.id]);

    await store.deleteGeneration(stale.id);
    expect(await store.getGeneration(stale.id)).toBeNull();
    await expect(store.deleteGeneration('missing')).resolves.toBeUndefined();
  });

  it('counts generations by status', async () => {
    await store.insertGeneration(newGeneration());
    await store.insertGeneration(newGeneration({ owner: 'bob' }));
    const g = (await store.insertGeneration(newGeneration())).generation;
    await store.updateGeneration({ id: g.id, expectedVersion: 1, change: { status: GenerationStatus.FAILED } });
    expect(await store.countByStatus()).toEqual({
      QUEUED: 2,
      GENERATING: 0,
      COMPLETED: 0,
      FAILED: 1,
      CANCELLED: 0,
      TIMED_OUT: 0,
    });
  });

  it('keeps the counts by status right through every kind of write', async () => {
    const keyed = newGeneration({ idempotencyKey: 'k' });
    const a = (await store.insertGeneration(keyed)).generation;
    // The same key again inserts nothing, so counts nothing.
    expect((await store.insertGeneration({ ...keyed, id: 'other-id' })).inserted).toBe(false);
    const b = (await store.insertGeneration(newGeneration())).generation;
    const c = (await store.insertGeneration(newGeneration())).generation;
    // A change that keeps the status (bookkeeping, an upstream id) moves no count.
    await store.updateGeneration({ id: a.id, expectedVersion: 1, change: { upstreamId: 'up-a' }, bookkeeping: { nextPollAt: at(5) } });
    await store.updateGeneration({ id: a.id, expectedVersion: 2, change: { status: GenerationStatus.GENERATING } });
    await store.updateGeneration({ id: a.id, expectedVersion: 3, change: { status: GenerationStatus.GENERATING, upstreamStatus: 'generating' } });
    await store.updateGeneration({ id: a.id, expectedVersion: 4, change: { status: GenerationStatus.COMPLETED } });
    // A stale version changes nothing.
    await store.updateGeneration({ id: b.id, expectedVersion: 7, change: { status: GenerationStatus.CANCELLED } });
    await store.deleteGeneration(c.id);
    expect(await store.countByStatus()).toEqual({ QUEUED: 1, GENERATING: 0, COMPLETED: 1, FAILED: 0, CANCELLED: 0, TIMED_OUT: 0 });
  });

  it('keeps usage per day right through every kind of write, for any `since`', async () => {
    const day = (n: number, hours = 0) => new Date(Date.UTC(2025, 0, 1 + n, hours));
    const plan: Array<[Partial<NewGeneration>, Partial<Generation> | 'delete' | null]> = [
      [{ createdAt: day(0, 1) }, { status: GenerationStatus.COMPLETED, usage: { credits: 400_000, usd: 0.5 } }],
      [{ createdAt: day(0, 23) }, { status: GenerationStatus.COMPLETED, usage: { credits: 300_000, usd: 0.125 } }],
      [{ createdAt: day(1, 0) }, { status: GenerationStatus.FAILED, usage: { credits: 1, usd: null } }],
      [{ createdAt: day(1, 5), input: { model: 'google/veo3', prompt: 'no duration' } }, { status: GenerationStatus.COMPLETED }],
      [{ createdAt: day(1, 6), input: { model: 'google/veo-3.0-fast', prompt: 'p', durationSeconds: 8 } }, null],
      [{ createdAt: day(1, 7) }, 'delete'],
      [{ createdAt: day(2, 12) }, { status: GenerationStatus.GENERATING }],
      [
        { createdAt: day(2, 13), owner: 'bob' },
        { status: GenerationStatus.COMPLETED, usage: { credits: 5, usd: 5 } },
      ],
    ];
    for (const [fields, change] of plan) {
      const g = (await store.insertGeneration(newGeneration(fields))).generation;
      if (change === 'delete') await store.deleteGeneration(g.id);
      else if (change) await store.updateGeneration({ id: g.id, expectedVersion: 1, change });
    }
    // The first one's usage is corrected later (as a late poll would), and a stale write changes nothing.
    const first = (await store.listGenerationKeys({ owner: 'alice', limit: 100 })).at(-1)!;
    await store.updateGeneration({ id: first.id, expectedVersion: 2, change: { usage: { credits: 400_000, usd: 0.75 } } });
    await store.updateGeneration({ id: first.id, expectedVersion: 2, change: { status: GenerationStatus.FAILED } });

    // What the generations themselves say, summed here.
    const keys = await store.listGenerationKeys({ owner: 'alice', limit: 100 });
    const stored = (await Promise.all(keys.map((k) => store.getGeneration(k.id)))).map((g) => g!);
    const expected = (since: Date | null) => {
      const groups = new Map<
        string,
        { status: string; model: string; durationSeconds: number | null; count: number; credits: number | null; usd: number | null }
      >();
      for (const g of stored.filter((x) => !since || x.createdAt >= since)) {
        const durationSeconds = typeof g.input.durationSeconds === 'number' ? g.input.durationSeconds : null;
        const key = `${g.status}|${g.input.model}|${durationSeconds}`;
        const group = groups.get(key) ?? { status: g.status, model: g.input.model, durationSeconds, count: 0, credits: null, usd: null };
        group.count += 1;
        if (g.usage?.credits != null) group.credits = (group.credits ?? 0) + g.usage.credits;
        if (g.usage?.usd != null) group.usd = (group.usd ?? 0) + g.usage.usd;
        groups.set(key, group);
      }
      return sorted([...groups.values()]);
    };
    const sorted = <T extends { status: string; model: string; durationSeconds: number | null }>(groups: readonly T[]) =>
      [...groups].sort((a, b) => `${a.status}|${a.model}|${a.durationSeconds}`.localeCompare(`${b.status}|${b.model}|${b.durationSeconds}`));

    expect(stored).toHaveLength(6);
    for (const since of [null, day(0), day(0, 12), day(1), day(1, 5), day(1, 6), day(2, 12), day(5)]) {
      const groups = sorted(await store.usageGroups('alice', since));
      expect({ since, groups }).toEqual({ since, groups: expected(since) });
    }
    // Binary-exact dollars, so a plain equality shows the roll-up neither loses nor drifts.
    expect(await store.usageGroups('alice', null)).toContainEqual({
      status: GenerationStatus.COMPLETED,
      model: 'google/veo3',
      durationSeconds: 8,
      count: 2,
      credits: 700_000,
      usd: 0.875,
    });
  });

  it('stores, finds, lists and revokes API keys', async () => {
    const k1 = { id: 'key-1', owner: 'alice', hash: 'h1', prefix: 'vk_aaaa', label: 'laptop', createdAt: at(1), revokedAt: null };
    const k2 = { id: 'key-2', owner: 'bob', hash: 'h2', prefix: 'vk_bbbb', label: null, createdAt: at(2), revokedAt: null };
    await store.insertApiKey(k1);
    await store.insertApiKey(k2);
    await expect(store.insertApiKey({ ...k2, id: 'key-3' })).rejects.toThrow(); // hash is unique

    expect(await store.findApiKeyByHash('h1')).toEqual(k1);
    expect(await store.findApiKeyByHash('nope')).toBeNull();
    expect(await store.listApiKeys()).toEqual([k1, k2]);

    expect(await store.revokeApiKey('key-1', at(10))).toBe(1);
    expect(await store.revokeApiKey('key-1', at(11))).toBe(0); // already revoked: keeps its time
    expect(await store.revokeApiKey('vk_bbbb', at(12))).toBe(1);
    expect(await store.revokeApiKey('unknown', at(13))).toBe(0);
    expect(await store.listApiKeys()).toEqual([
      { ...k1, revokedAt: at(10) },
      { ...k2, revokedAt: at(12) },
    ]);
  });

  it('queues a webhook delivery with each reported change, for each enabled endpoint of the owner that takes it', async () => {
    expect(await store.insertWebhookEndpoint(endpoint('whe-all'), 10)).toBe(true);
    await store.insertWebhookEndpoint(endpoint('whe-completed', { events: [WebhookEventType.GENERATION_COMPLETED] }), 10);
    await store.insertWebhookEndpoint(endpoint('whe-off', { enabled: false }), 10);
    await store.insertWebhookEndpoint(endpoint('whe-bob', { owner: 'bob' }), 10);
    // The cap counts the owner's endpoints only.
    expect(await store.insertWebhookEndpoint(endpoint('whe-over'), 4)).toBe(true);
    expect(await store.insertWebhookEndpoint(endpoint('whe-over-2'), 4)).toBe(false);
    await store.deleteWebhookEndpoint('alice', 'whe-over');

    const { generation } = await store.insertGeneration(newGeneration());
    const queued = await store.updateGeneration({ id: generation.id, expectedVersion: 1, change: { upstreamId: 'up-1' } });
    const generating = await store.updateGeneration({ id: generation.id, expectedVersion: 2, change: { status: GenerationStatus.GENERATING } });
    // Not an event: the status stays.
    await store.updateGeneration({
      id: generation.id,
      expectedVersion: 3,
      change: { upstreamStatus: 'processing', status: GenerationStatus.GENERATING },
    });
    const video = { url: 'https://cdn.example.com/v.mp4', contentType: 'video/mp4', fileName: null, sizeBytes: null };
    const completed = await store.updateGeneration({
      id: generation.id,
      expectedVersion: 4,
      change: { status: GenerationStatus.COMPLETED, video, usage: { credits: 10, usd: 0.01 }, completedAt: at(50) },
      at: at(50),
    });
    // A stale writer changes nothing and queues nothing.
    expect(await store.updateGeneration({ id: generation.id, expectedVersion: 4, change: { status: GenerationStatus.FAILED } })).toBeNull();

    const toAll = await store.listWebhookDeliveries({ owner: 'alice', endpointId: 'whe-all', limit: 10 });
    // The completion was written with an earlier `at` than the others' wall clock: order by version.
    toAll.sort((x, y) => x.generationVersion - y.generationVersion);
    expect(toAll.map((d) => [d.eventType, d.generationVersion, d.messageId])).toEqual([
      [WebhookEventType.GENERATION_QUEUED, queued!.version, `msg_${generation.id}_2`],
      [WebhookEventType.GENERATION_GENERATING, generating!.version, `msg_${generation.id}_3`],
      [WebhookEventType.GENERATION_COMPLETED, completed!.version, `msg_${generation.id}_5`],
    ]);
    const [toCompleted, ...more] = await store.listWebhookDeliveries({ owner: 'alice', endpointId: 'whe-completed', limit: 10 });
    expect(more).toEqual([]);
    expect(toCompleted).toMatchObject({
      messageId: `msg_${generation.id}_5`,
      status: WebhookDeliveryStatus.PENDING,
      attempts: 0,
      nextAttemptAt: at(50),
      occurredAt: at(50),
      data: { id: generation.id, status: 'COMPLETED', version: 5, model: 'google/veo3', video, error: null, usage: { credits: 10, usd: 0.01 } },
    });
    expect(await store.listWebhookDeliveries({ owner: 'alice', endpointId: 'whe-off', limit: 10 })).toEqual([]);
    expect(await store.listWebhookDeliveries({ owner: 'bob', limit: 10 })).toEqual([]);
  });

  it('queues video.stored with a stored copy, in the same statement, and nothing for a copy given up on', async () => {
    await store.insertWebhookEndpoint(endpoint('whe-all'), 10);
    await store.insertWebhookEndpoint(endpoint('whe-stored', { events: [WebhookEventType.VIDEO_STORED] }), 10);
    await store.insertWebhookEndpoint(endpoint('whe-completed', { events: [WebhookEventType.GENERATION_COMPLETED] }), 10);
    const complete = async (hook: { url: string; events: WebhookEventType[] | null } | null): Promise<Generation> => {
      const { generation } = await store.insertGeneration(newGeneration({ webhook: hook }));
      await store.updateGeneration({ id: generation.id, expectedVersion: 1, change: { upstreamId: `up-${generation.id}` } });
      const video = { url: `https://cdn.example.com/${generation.id}.mp4`, contentType: 'video/mp4', fileName: null, sizeBytes: null };
      return (await store.updateGeneration({
        id: generation.id,
        expectedVersion: 2,
        change: { status: GenerationStatus.COMPLETED, video: { ...video, copy: { state: MediaCopyState.PENDING } }, completedAt: at(60) },
        at: at(60),
      }))!;
    };
    const stored = await complete({ url: 'https://jobs.example.com/stored-only', events: [WebhookEventType.VIDEO_STORED] });
    const givenUp = await complete(null);

    const jobs = await store.claimMediaCopies('copier', at(61), 60_000, 10);
    expect(jobs.map((j) => j.generationId).sort()).toEqual([stored.id, givenUp.id].sort());
    const job = (id: string) => jobs.find((j) => j.generationId === id)!;
    // A copier that lost its lease writes nothing, so it queues nothing either.
    expect(
      await store.finishMediaCopy({ ...job(stored.id), lease: { owner: 'someone-else', epoch: 1 } }, { state: MediaCopyState.STORED }, at(62)),
    ).toBeNull();
    const copy = { state: MediaCopyState.STORED, sizeBytes: 1234, sha256: 'ab'.repeat(32), contentType: 'video/mp4', storedAt: at(62).toISOString() };
    const afterStore = await store.finishMediaCopy(job(stored.id), copy, at(62));
    expect(afterStore!.version).toBe(stored.version + 1);
    const afterGiveUp = await store.finishMediaCopy(
      job(givenUp.id),
      { state: MediaCopyState.FAILED, errorCode: MediaCopyErrorCode.LINK_GONE, errorMessage: 'Answered 404' },
      at(63),
    );
    expect(afterGiveUp!.video!.copy!.state).toBe(MediaCopyState.FAILED);

    const events = async (endpointId: string) =>
      (await store.listWebhookDeliveries({ owner: 'alice', endpointId, limit: 20 }))
        .sort((x, y) => x.generationVersion - y.generationVersion)
        .map((d) => [d.generationId, d.eventType, d.messageId]);
    const storedEvent = [stored.id, WebhookEventType.VIDEO_STORED, `msg_${stored.id}_${afterStore!.version}`];
    expect(await events('whe-stored')).toEqual([storedEvent]);
    expect((await events('whe-all')).filter(([id]) => id === stored.id).at(-1)).toEqual(storedEvent);
    // The copy given up on is reported to nobody: its last event is still the completion.
    expect((await events('whe-all')).filter(([id]) => id === givenUp.id).map(([, type]) => type)).toEqual([
      WebhookEventType.GENERATION_QUEUED,
      WebhookEventType.GENERATION_COMPLETED,
    ]);
    expect(await events('whe-completed')).toHaveLength(2);
    const [own, ...more] = await store
      .listWebhookDeliveries({ owner: 'alice', generationId: stored.id, limit: 20 })
      .then((all) => all.filter((d) => d.endpointId === null));
    expect(more).toEqual([]);
    expect(own).toMatchObject({
      url: 'https://jobs.example.com/stored-only',
      eventType: WebhookEventType.VIDEO_STORED,
      messageId: storedEvent[2],
      status: WebhookDeliveryStatus.PENDING,
      occurredAt: at(62),
      data: { id: stored.id, status: 'COMPLETED', version: afterStore!.version, video: { url: stored.video!.url, copy } },
    });
  });

  it('hands each due webhook delivery to one claimer, and records an attempt only under its lease', async () => {
    await store.insertWebhookEndpoint(endpoint('whe-1'), 10);
    for (let i = 0; i < 6; i++) {
      const { generation } = await store.insertGeneration(newGeneration());
      await store.updateGeneration({ id: generation.id, expectedVersion: 1, change: { upstreamId: `up-${i}` }, at: at(i) });
    }
    const now = at(100);
    const [a, b] = await Promise.all([store.claimWebhookDeliveries('a', now, 30_000, 4), store.claimWebhookDeliveries('b', now, 30_000, 4)]);
    const ids = [...a, ...b].map((d) => d.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expect(await store.claimWebhookDeliveries('c', now, 30_000, 4)).toEqual([]);
    expect(await store.nextWebhookDeliveryDueAt()).toEqual(new Date(now.getTime() + 30_000));

    const mine = a[0]!;
    const attempt = {
      at: now,
      status: WebhookDeliveryStatus.PENDING,
      statusCode: 503,
      error: 'Answered 503',
      responseExcerpt: 'busy',
      durationMs: 12,
      deliveredAt: null,
      nextAttemptAt: at(120),
    };
    expect(await store.recordWebhookAttempt(mine.id, { owner: 'a', epoch: mine.leaseEpoch + 1 }, attempt)).toBe(false);
    expect(await store.recordWebhookAttempt(mine.id, { owner: 'a', epoch: mine.leaseEpoch }, attempt)).toBe(true);
    const [recorded] = (await store.listWebhookDeliveries({ owner: 'alice', limit: 10 })).filter((d) => d.id === mine.id);
    expect(recorded).toMatchObject({ attempts: 1, lastStatusCode: 503, lastResponseExcerpt: 'busy', nextAttemptAt: at(120), leaseOwner: null });
    // Due again at its next attempt; the others come back only when their leases expire.
    expect((await store.claimWebhookDeliveries('c', at(125), 30_000, 10)).map((d) => d.id)).toEqual([mine.id]);
    expect(await store.claimWebhookDeliveries('c', at(131), 30_000, 10)).toHaveLength(5);
  });

  it('claims at most the cap per endpoint, counting every lease held, and fills the limit from other endpoints', async () => {
    await store.insertWebhookEndpoint(endpoint('whe-busy'), 10);
    await store.insertWebhookEndpoint(endpoint('whe-other', { owner: 'bob' }), 10);
    for (let i = 0; i < 6; i++) {
      const { generation } = await store.insertGeneration(newGeneration());
      await store.updateGeneration({ id: generation.id, expectedVersion: 1, change: { upstreamId: `up-${i}` }, at: at(i) });
    }
    // Bob's are due last: an uncapped claim of 4 would take alice's endpoint's four oldest.
    for (let i = 0; i < 2; i++) {
      const { generation } = await store.insertGeneration(newGeneration({ owner: 'bob' }));
      await store.updateGeneration({ id: generation.id, expectedVersion: 1, change: { upstreamId: `up-bob-${i}` }, at: at(50 + i) });
    }
    const now = at(100);
    const first = await store.claimWebhookDeliveries('a', now, 30_000, 4, 2);
    expect(first.map((d) => d.endpointId).sort()).toEqual(['whe-busy', 'whe-busy', 'whe-other', 'whe-other']);
    // Another claimer sees those leases: both endpoints are at the cap.
    expect(await store.claimWebhookDeliveries('b', now, 30_000, 4, 2)).toEqual([]);
    // One attempt ends: one place frees up, for that endpoint's next delivery, oldest first.
    const ended = first.find((d) => d.endpointId === 'whe-busy')!;
    const attempt = {
      at: now,
      status: WebhookDeliveryStatus.DELIVERED,
      statusCode: 200,
      error: null,
      responseExcerpt: null,
      durationMs: 3,
      deliveredAt: now,
      nextAttemptAt: null,
    };
    expect(await store.recordWebhookAttempt(ended.id, { owner: 'a', epoch: ended.leaseEpoch }, attempt)).toBe(true);
    const next = await store.claimWebhookDeliveries('b', now, 30_000, 4, 2);
    expect(next.map((d) => [d.endpointId, d.generationVersion])).toEqual([['whe-busy', 2]]);
    expect(next[0]!.occurredAt.getTime()).toBeGreaterThan(
      Math.max(...first.filter((d) => d.endpointId === 'whe-busy').map((d) => d.occurredAt.getTime())),
    );
    // Without a cap, the old claim: everything due.
    expect(await store.claimWebhookDeliveries('c', at(200), 30_000, 10)).toHaveLength(7);
  });
});

describe('PGlite store lifecycle', () => {
  it('refuses calls before start', async () => {
    const unstarted = createPgliteStore({});
    await expect(unstarted.ping()).rejects.toThrow('not started');
  });
});

describe('PGlite store on disk', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-test-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies migrations once and keeps data across stop and start', async () => {
    const dataDir = join(dir, 'nested', 'db'); // created when missing
    const first = createPgliteStore({ dataDir });
    await first.start();
    const { generation } = await first.insertGeneration(newGeneration({ idempotencyKey: 'persist' }));
    await first.insertApiKey({ id: 'k', owner: 'alice', hash: 'hh', prefix: 'p', label: null, createdAt: at(0), revokedAt: null });
    await first.stop();

    const second = createPgliteStore({ dataDir });
    await second.start();
    expect(await second.getGeneration(generation.id)).toEqual(generation);
    expect(await second.findApiKeyByHash('hh')).not.toBeNull();
    await second.stop();

    // The same store object can be started again after a stop.
    await second.start();
    await second.ping();
    await second.stop();
    // Three cold starts of an on-disk database, the first with a full initdb: about 10 s on an idle
    // machine, and CI's loaded one once went past the default 30 s.
  }, 120_000);
});

describe('counts by status on a database that had generations before they were counted', () => {
  it('counts the rows already there when migration 0014_status_counts runs', async () => {
    const db = pgliteDriver(await createInMemoryPglite());
    try {
      await migrate(
        db,
        // The stripes' migration alters the counts' table, so it cannot come before it.
        migrations.filter((m) => m.id !== '0014_status_counts' && m.id !== '0017_roll_up_stripes'),
      );
      await insertGeneration(db, newGeneration());
      const failed = (await insertGeneration(db, newGeneration())).generation;
      await updateGeneration(db, { id: failed.id, expectedVersion: 1, change: { status: GenerationStatus.FAILED } });
      await migrate(db, migrations);
      expect(await countByStatus(db)).toEqual({ QUEUED: 1, GENERATING: 0, COMPLETED: 0, FAILED: 1, CANCELLED: 0, TIMED_OUT: 0 });
      // And counted from then on.
      await insertGeneration(db, newGeneration());
      expect((await countByStatus(db)).QUEUED).toBe(2);
    } finally {
      await db.close();
    }
  });
});

describe('usage on a database that had generations before usage was summed per day', () => {
  it('sums the rows already there when migration 0014_usage_days runs', async () => {
    const db = pgliteDriver(await createInMemoryPglite());
    try {
      await migrate(
        db,
        // The totals' migration replaces the days' functions, so it cannot come before them.
        // The stripes' migration alters both roll-ups, so it cannot come before them either.
        migrations.filter((m) => m.id !== '0014_usage_days' && m.id !== '0014_usage_totals' && m.id !== '0017_roll_up_stripes'),
      );
      const done = (await insertGeneration(db, newGeneration({ owner: 'carol' }))).generation;
      await updateGeneration(db, {
        id: done.id,
        expectedVersion: 1,
        change: { status: GenerationStatus.COMPLETED, usage: { credits: 10, usd: 0.5 } },
      });
      await insertGeneration(db, newGeneration({ owner: 'carol' }));
      await migrate(db, migrations);
      const groups = (since: Date | null) => usageGroups(db, 'carol', since);
      const queued = { status: GenerationStatus.QUEUED, model: 'google/veo3', durationSeconds: 8, credits: null, usd: null };
      const completed = { status: GenerationStatus.COMPLETED, model: 'google/veo3', durationSeconds: 8, count: 1, credits: 10, usd: 0.5 };
      expect(await groups(null)).toEqual(expect.arrayContaining([completed, { ...queued, count: 1 }]));
      expect(await groups(null)).toHaveLength(2);
      // And summed from then on.
      await insertGeneration(db, newGeneration({ owner: 'carol' }));
      expect(await groups(null)).toEqual(expect.arrayContaining([completed, { ...queued, count: 2 }]));
    } finally {
      await db.close();
    }
  });
});

/**
 * All-time usage reads the per-owner totals (0014_usage_totals), which the same trigger calls keep as
 * the per-day sums: after every kind of write both must say what a fresh count of the rows says.
 */
describe.each(drivers)('all-time usage totals on %s', (driverName) => {
  let server: PostgresServer | null = null;
  let db: SqlDriver;

  beforeEach(async () => {
    if (driverName === 'PostgreSQL') {
      server ??= await startPostgres();
      db = pgDriver({ connectionString: server.url });
      await migrate(db, migrations);
      await db.exec('TRUNCATE generations, deleted_usage CASCADE');
    } else {
      db = pgliteDriver(await createInMemoryPglite());
      await migrate(db, migrations);
    }
  }, 60_000);

  afterEach(async () => {
    await db.close();
  });

  afterAll(async () => {
    await server?.destroy();
  });

  const columns =
    'owner, status, model, duration, n::int AS n, credits::text AS credits, credits_n::int AS credits_n, usd::text AS usd, usd_n::int AS usd_n';
  const order = 'ORDER BY owner, status, model, duration';
  const totals = () => db.query(`SELECT ${columns} FROM generation_usage_totals ${order}`);
  /** The totals counted afresh from the rows, as the migration fills them. */
  const recount = () =>
    db.query(
      `SELECT ${columns}
         FROM (SELECT owner, status, model, duration, count(*) AS n, coalesce(sum(credits), 0) AS credits, count(credits) AS credits_n,
                      coalesce(sum(usd), 0) AS usd, count(usd) AS usd_n
                 FROM (SELECT owner, status, model, generation_usage_duration(input) AS duration,
                              generation_usage_number(usage->'credits') AS credits, generation_usage_number(usage->'usd') AS usd
                         FROM generations
                       UNION ALL
                       SELECT owner, status, model, duration_seconds, credits::numeric, usd::numeric FROM deleted_usage) AS used
                GROUP BY 1, 2, 3, 4) AS counted ${order}`,
    );
  /** The per-day sums added up over the days. */
  const daysSummed = () =>
    db.query(
      `SELECT ${columns}
         FROM (SELECT owner, status, model, duration, sum(n) AS n, sum(credits) AS credits, sum(credits_n) AS credits_n,
                      sum(usd) AS usd, sum(usd_n) AS usd_n
                 FROM generation_usage_days GROUP BY 1, 2, 3, 4) AS summed ${order}`,
    );
  async function expectTotalsRight(): Promise<void> {
    const kept = await totals();
    expect(kept).toEqual(await recount());
    expect(kept).toEqual(await daysSummed());
  }

  const day = (n: number, hours = 0) => new Date(Date.UTC(2025, 0, 1 + n, hours));

  it('equal a fresh count after inserts, status changes, late usage, deletes, untouched updates and truncate', async () => {
    const made: Generation[] = [];
    for (const [i, fields] of (
      [
        { createdAt: day(0, 1) },
        { createdAt: day(0, 23) },
        { createdAt: day(1, 2) },
        { createdAt: day(2, 3), input: { model: 'google/veo3', prompt: 'no duration' } },
        { createdAt: day(3, 4), input: { model: 'google/veo-3.0-fast', prompt: 'p', durationSeconds: 4 } },
        { createdAt: day(3, 5), owner: 'bob' },
      ] as Array<Partial<NewGeneration>>
    ).entries()) {
      made.push((await insertGeneration(db, newGeneration({ id: `totals-${i}`, ...fields }))).generation);
    }
    await expectTotalsRight();

    const [a, b, c, d, e, f] = made as [Generation, Generation, Generation, Generation, Generation, Generation];
    await updateGeneration(db, { id: a.id, expectedVersion: 1, change: { status: GenerationStatus.GENERATING } });
    await updateGeneration(db, {
      id: a.id,
      expectedVersion: 2,
      change: { status: GenerationStatus.COMPLETED, usage: { credits: 400_000, usd: 0.5 } },
    });
    await updateGeneration(db, { id: b.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED } });
    // Usage arriving after the status, and a correction of it.
    await updateGeneration(db, { id: b.id, expectedVersion: 2, change: { usage: { credits: 300_000, usd: 0.125 } } });
    await updateGeneration(db, { id: a.id, expectedVersion: 3, change: { usage: { credits: 400_000, usd: 0.75 } } });
    await updateGeneration(db, { id: c.id, expectedVersion: 1, change: { status: GenerationStatus.FAILED, usage: { credits: 1, usd: null } } });
    await updateGeneration(db, { id: d.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, usage: { credits: 2, usd: 0.25 } } });
    await updateGeneration(db, { id: f.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, usage: { credits: 5, usd: 5 } } });
    // A change to neither status nor usage (as the retention sweep's new version of a generation is).
    await updateGeneration(db, { id: a.id, expectedVersion: 4, change: { upstreamStatus: 'expired' } });
    await expectTotalsRight();
    expect(await usageGroups(db, 'alice', null)).toContainEqual({
      status: GenerationStatus.COMPLETED,
      model: 'google/veo3',
      durationSeconds: 8,
      count: 2,
      credits: 700_000,
      usd: 0.875,
    });

    // A delete by the owner keeps what was paid (deleted_usage); a plain delete takes it away.
    expect(await deleteOwnedGeneration(db, 'alice', a.id, day(9))).toMatchObject({ deleted: true });
    await deleteGeneration(db, e.id);
    await expectTotalsRight();
    const allTime = await usageGroups(db, 'alice', null);
    expect(allTime).toContainEqual({
      status: GenerationStatus.COMPLETED,
      model: 'google/veo3',
      durationSeconds: 8,
      count: 2,
      credits: 700_000,
      usd: 0.875,
    });
    expect(allTime.find((g) => g.model === 'google/veo-3.0-fast')).toBeUndefined();
    // The same as the day sums since the first midnight.
    const byModel = (groups: Awaited<ReturnType<typeof usageGroups>>) =>
      [...groups].sort((x, y) => `${x.status}|${x.model}|${x.durationSeconds}`.localeCompare(`${y.status}|${y.model}|${y.durationSeconds}`));
    expect(byModel(allTime)).toEqual(byModel(await usageGroups(db, 'alice', day(0))));

    await db.exec('TRUNCATE generations, deleted_usage CASCADE');
    expect(await totals()).toEqual([]);
    expect(await usageGroups(db, 'bob', null)).toEqual([]);
    await insertGeneration(db, newGeneration({ id: 'totals-after', owner: 'bob' }));
    await expectTotalsRight();
    expect(await usageGroups(db, 'bob', null)).toEqual([
      { status: GenerationStatus.QUEUED, model: 'google/veo3', durationSeconds: 8, count: 1, credits: null, usd: null },
    ]);
  });
});

describe('usage on a database that had generations before the all-time totals were kept', () => {
  it('counts the rows already there when migration 0014_usage_totals runs', async () => {
    const db = pgliteDriver(await createInMemoryPglite());
    try {
      await migrate(
        db,
        migrations.filter((m) => m.id !== '0014_usage_totals' && m.id !== '0017_roll_up_stripes'),
      );
      const done = (await insertGeneration(db, newGeneration({ owner: 'dave' }))).generation;
      await updateGeneration(db, {
        id: done.id,
        expectedVersion: 1,
        change: { status: GenerationStatus.COMPLETED, usage: { credits: 10, usd: 0.5 } },
      });
      const gone = (await insertGeneration(db, newGeneration({ owner: 'dave' }))).generation;
      await updateGeneration(db, {
        id: gone.id,
        expectedVersion: 1,
        change: { status: GenerationStatus.COMPLETED, usage: { credits: 20, usd: 0.25 } },
      });
      await deleteOwnedGeneration(db, 'dave', gone.id, at(1000));
      await insertGeneration(db, newGeneration({ owner: 'dave' }));
      await migrate(db, migrations);
      const completed = { status: GenerationStatus.COMPLETED, model: 'google/veo3', durationSeconds: 8, count: 2, credits: 30, usd: 0.75 };
      const queued = { status: GenerationStatus.QUEUED, model: 'google/veo3', durationSeconds: 8, credits: null, usd: null };
      expect(await usageGroups(db, 'dave', null)).toEqual(expect.arrayContaining([completed, { ...queued, count: 1 }]));
      expect(await usageGroups(db, 'dave', null)).toHaveLength(2);
      // And kept from then on.
      await insertGeneration(db, newGeneration({ owner: 'dave' }));
      expect(await usageGroups(db, 'dave', null)).toEqual(expect.arrayContaining([completed, { ...queued, count: 2 }]));
    } finally {
      await db.close();
    }
  });
});
