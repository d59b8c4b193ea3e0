/**
 * Several gateway processes (`node dist/main.js`) behaving as one: a real PostgreSQL 15 and Redis,
 * one shared time-scaled simulator in this process, and real HTTP and graphql-ws clients.
 * Skips loudly where PostgreSQL or Redis is not installed (CI installs both).
 */
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import { Topic, topicOf } from '../../src/generations/events';
import { PollSchedule } from '../../src/generations/timing';
import type { Simulator } from '../../src/simulator';
import { CREATE, GET, WATCH, WATCH_ALL, collect, sleep, waitFor, within, type Collected } from '../helpers/gateway';
import { startGatewayGroup, type GatewayGroup } from '../helpers/gateway-group';
import { describeWithServices, type GatewayProcess, type PostgresServer, type RedisServer } from '../helpers/services';

const DELETE = 'mutation Delete($id: ID!) { deleteVideoGeneration(id: $id) }';

/** veo2 (45 s) takes about 0.9 s, veo3 (2 min) about 2.4 s. */
const TIME_SCALE = 0.02;
const LEASE_MS = 1_000;
const POLL_MIN_INTERVAL_MS = 2_000;
const POLL_MAX_INTERVAL_MS = 30_000;
/** The longest gap between two polls of one generation, in real ms. */
const MAX_POLL_GAP_MS = POLL_MAX_INTERVAL_MS * TIME_SCALE;

interface Created {
  id: string;
  upstreamId: string;
  version: number;
  status: string;
}

describeWithServices('several gateway instances', () => {
  let group: GatewayGroup;
  let postgres: PostgresServer;
  let redis: RedisServer;
  let simulator: Simulator;
  let db: pg.Pool;
  let key: string;
  let gateways: GatewayProcess[] = [];
  const clients: Client[] = [];
  const subs: Collected<any>[] = [];

  const startInstance = (env: Record<string, string> = {}): Promise<GatewayProcess> => group.startInstance(env);

  const alive = () => gateways.filter((g) => g.alive);

  /**
   * A graphql-ws client; with `reconnect`, it retries as graphql-ws does by default (any close code it
   * does not consider fatal) and picks a live instance each time.
   */
  function client(first: GatewayProcess, reconnect = false): Client {
    let next: GatewayProcess | null = first;
    const c = createClient({
      url: () => {
        const target = next?.alive ? next : alive()[0]!;
        next = null;
        return target.wsUrl;
      },
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      lazy: true,
      retryAttempts: reconnect ? 20 : 0,
      retryWait: (retries) => sleep(Math.min(500, 50 * 2 ** retries)),
    });
    clients.push(c);
    return c;
  }

  /** Waits until `count` instances subscribe to alice's owner-wide Redis channel (PUBSUB NUMSUB). */
  async function ownerChannelSubscribers(count: number): Promise<void> {
    const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await probe.connect();
      const channel = topicOf(Topic.owner, 'alice');
      await waitFor(
        `${count} instances to subscribe to ${channel}`,
        async () => {
          const [, subscribers] = (await probe.pubsub('NUMSUB', channel)) as [string, number];
          return subscribers >= count;
        },
        10_000,
        20,
      );
    } finally {
      probe.disconnect();
    }
  }

  function subscribe(c: Client, query: string, variables?: Record<string, unknown>): Collected<any> {
    const sub = collect(c, query, variables);
    subs.push(sub);
    return sub;
  }

  async function post(gateway: GatewayProcess, query: string, variables?: Record<string, unknown>) {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as { data?: any; errors?: Array<{ extensions?: any }> } };
  }

  async function create(gateway: GatewayProcess, input: Record<string, unknown>): Promise<Created> {
    const { body } = await post(gateway, CREATE, { input });
    if (!body.data?.createVideoGeneration) throw new Error(`create failed: ${JSON.stringify(body)}`);
    return body.data.createVideoGeneration;
  }

  async function readyz(gateway: GatewayProcess) {
    const res = await fetch(gateway.url.replace(/\/graphql$/, '/readyz'));
    return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
  }

  /** Polls an instance made but could not record because its lease had expired (its own counter). */
  async function leaseLostPolls(gateway: GatewayProcess): Promise<number> {
    const metrics = await (await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).text();
    return Number(/^gateway_polls_total\{result="lease_lost"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  }

  async function row(id: string) {
    const { rows } = await db.query('SELECT status, version, poll_count, lease_owner, upstream_id, model FROM generations WHERE id = $1', [id]);
    return rows[0] as { status: string; version: number; poll_count: number; lease_owner: string | null; upstream_id: string; model: string };
  }

  /** A watcher's values: each one newer than the one before, ending in a terminal status. */
  function expectWholeHistory(values: Array<{ videoGenerationUpdated: { version: number; status: string } }>) {
    const versions = values.map((v) => v.videoGenerationUpdated.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(['COMPLETED', 'FAILED']).toContain(values.at(-1)?.videoGenerationUpdated.status);
  }

  beforeAll(async () => {
    group = await startGatewayGroup({
      // Three instances starting at once also race on the migrations (already applied here: a no-op each).
      instances: 3,
      atOnce: true,
      name: 'gw',
      timeScale: TIME_SCALE,
      seed: 4,
      owner: 'alice',
      redis: true,
      env: {
        POLL_LEASE_MS: String(LEASE_MS),
        POLL_MIN_INTERVAL_MS: String(POLL_MIN_INTERVAL_MS),
        POLL_MAX_INTERVAL_MS: String(POLL_MAX_INTERVAL_MS),
      },
    });
    ({ postgres, simulator, key, gateways } = group);
    redis = group.redis!;
    db = new pg.Pool({ connectionString: postgres.url, max: 2 });
    db.on('error', () => undefined); // the PostgreSQL restart test drops these connections too
  }, 90_000);

  afterEach(() => {
    for (const sub of subs.splice(0)) sub.unsubscribe();
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await db?.end().catch(() => undefined);
    await group?.stop();
  }, 60_000);

  it('30 generations over three instances: every watcher sees every change, one create each, no extra polls', async () => {
    simulator.control.resetCounts();
    // Polls take a little while, so two instances polling one job at once would overlap and show.
    simulator.control.injectFault({ endpoint: 'poll', times: Infinity, action: { kind: 'delay', ms: 30 } });
    const [a, b, c] = gateways;
    const leaseLostBefore = await Promise.all(gateways.map(leaseLostPolls));
    // One owner-wide stream on each instance, open before anything is created.
    const streams = [a!, b!, c!].map((g) => subscribe(client(g), WATCH_ALL));
    // Live once each instance holds the owner's Redis channel (a fixed pause let a loaded machine lose version 2).
    await ownerChannelSubscribers(3);

    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) => create(gateways[i % 3]!, { model: i % 2 ? 'veo2' : 'google/veo3', prompt: `cluster ${i}` })),
    );
    // Each generation is watched on an instance other than the one that created it.
    const watchers = created.map((g, i) => subscribe(client(gateways[(i + 1) % 3]!), WATCH, { id: g.id }));
    await within('every watcher to see its generation end', Promise.all(watchers.map((w) => w.done)), 30_000);
    simulator.control.clearFaults();

    const schedule = new PollSchedule({ timeScale: TIME_SCALE, minIntervalMs: POLL_MIN_INTERVAL_MS, maxIntervalMs: POLL_MAX_INTERVAL_MS });
    const counts = simulator.control.counts();
    expect(counts.create).toBe(30);
    let polls = 0;
    let unrecorded = 0;
    let overlapped = 0;
    let skipped = 0;
    for (const [i, g] of created.entries()) {
      const w = watchers[i]!;
      expect(w.errors).toEqual([]);
      expectWholeHistory(w.values);
      const final = (await post(a!, GET, { id: g.id })).body.data.videoGeneration;
      expect(w.values.at(-1).videoGenerationUpdated).toEqual(final);
      // Every instance's owner-wide stream sees the generation's versions in order, none twice, up to its
      // final one. It may skip one: versions are published by different instances (the create by one,
      // polls by others), and on a loaded machine a publish can arrive after the next version's; the
      // stream then rightly drops the older one rather than go back (docs/api.md).
      for (const stream of streams) {
        const seen: number[] = stream.values
          .map((v) => v.videoGenerationsUpdated)
          .filter((u) => u.id === g.id)
          .map((u) => u.version);
        expect(seen).toEqual([...new Set(seen)].sort((x, y) => x - y));
        expect(seen.at(-1)).toBe(final.version);
        skipped += final.version - 1 - seen.length;
      }
      // Two polls of one job at once only after a lease was lost (counted below); the answered polls the
      // store did not record are counted below too.
      const stored = await row(g.id);
      unrecorded += counts.pollsById[g.upstreamId]! - stored.poll_count;
      if (counts.maxConcurrentPollsById[g.upstreamId]! > 1) overlapped++;
      // No more than a single instance's schedule would make up to the moment it ended.
      const model = { model: stored.model as string };
      const createdAt = new Date(final.createdAt);
      const end = new Date(final.completedAt).getTime();
      let scheduled = 0;
      for (let t = schedule.nextPollAt(model, createdAt, createdAt); t.getTime() <= end; t = schedule.nextPollAt(model, createdAt, t)) scheduled++;
      expect(stored.poll_count).toBeLessThanOrEqual(scheduled + 1);
      polls += stored.poll_count;
    }
    // Each poll the simulator answered is one the store recorded, or one an instance made after its
    // lease had expired (a stall on a busy machine) and dropped, counting it: none went unaccounted.
    const leaseLost = (await Promise.all(gateways.map(leaseLostPolls))).reduce((sum, n, i) => sum + n - leaseLostBefore[i]!, 0);
    expect(unrecorded).toBe(leaseLost);
    // An instance stalled past its 1 s lease (a loaded machine) is the only way a second one polls the
    // same job meanwhile: each such job cost at least one lease-lost poll.
    expect(overlapped).toBeLessThanOrEqual(leaseLost);
    console.log(
      `scale: 30 generations over 3 instances: ${counts.create} creates, ${polls} polls (${(polls / 30).toFixed(1)} per generation), ${skipped} versions skipped by owner-wide streams`,
    );
  }, 60_000);

  it('two creates with one idempotency key on two instances at once: one upstream create, one generation', async () => {
    simulator.control.resetCounts();
    const input = { model: 'veo2', prompt: 'raced', idempotencyKey: 'race-key-1' };
    const [x, y] = await Promise.all([create(gateways[0]!, input), create(gateways[1]!, input)]);
    expect(x.id).toBe(y.id);
    expect(simulator.control.counts().create).toBe(1);
  });

  it('a generation deleted on one instance is gone on the others, also where an earlier read kept it in memory', async () => {
    const [a, b] = gateways;
    const g = await create(a!, { model: 'veo2', prompt: 'deleted elsewhere' });
    await waitFor('completion', async () => (await row(g.id)).status === 'COMPLETED', 10_000);
    // Ended generations never change again, so b answers later reads of this one from memory.
    for (let i = 0; i < 2; i++) expect((await post(b!, GET, { id: g.id })).body.data?.videoGeneration.status).toBe('COMPLETED');
    expect((await post(a!, DELETE, { id: g.id })).body).toEqual({ data: { deleteVideoGeneration: g.id } });
    await waitFor('b to answer NOT_FOUND', async () => (await post(b!, GET, { id: g.id })).body.errors?.[0]?.extensions?.code === 'NOT_FOUND', 5_000);
  }, 30_000);

  it('a poll slower than the lease keeps its lease: no second instance polls the job meanwhile', async () => {
    const g = await create(gateways[0]!, { model: 'veo2', prompt: 'slow upstream' });
    simulator.control.forceOutcome(g.upstreamId, 'pending');
    simulator.control.injectFault({ endpoint: 'poll', match: { generationId: g.upstreamId }, times: 1, action: { kind: 'delay', ms: 3 * LEASE_MS } });
    const holder = await waitFor('a lease on the slow poll', async () => (await row(g.id)).lease_owner, 10_000);
    await sleep(2 * LEASE_MS); // twice the lease: without renewal another instance would take over here
    expect((await row(g.id)).lease_owner).toBe(holder);
    simulator.control.forceOutcome(g.upstreamId, 'completed');
    await waitFor('completion', async () => (await row(g.id)).status === 'COMPLETED', 10_000);
    expect(simulator.control.counts().maxConcurrentPollsById[g.upstreamId]).toBe(1);
  }, 30_000);

  it('an instance frozen past its lease (SIGSTOP) writes nothing when it thaws: the new holder keeps its lease and finishes', async () => {
    const g = await create(gateways[0]!, { model: 'veo2', prompt: 'frozen instance' });
    simulator.control.forceOutcome(g.upstreamId, 'pending'); // `generating` until told otherwise
    await waitFor('GENERATING', async () => (await row(g.id)).status === 'GENERATING', 10_000);
    const polls = () => simulator.control.counts().pollsById[g.upstreamId] ?? 0;
    const pollsBefore = polls();
    // The next poll is answered 3 leases after it arrives, then the takeover poll 5 leases after.
    simulator.control.injectFault({ endpoint: 'poll', match: { generationId: g.upstreamId }, times: 1, action: { kind: 'delay', ms: 3 * LEASE_MS } });
    await waitFor('the slow poll to reach the simulator', () => polls() > pollsBefore, 10_000, 5);
    const slowArrivedAt = Date.now();
    const lateName = await waitFor('its lease', async () => (await row(g.id)).lease_owner, 5_000, 5);
    const late = alive().find((x) => x.name === lateName)!;
    const lateLostBefore = await leaseLostPolls(late);
    late.pause();
    try {
      simulator.control.injectFault({
        endpoint: 'poll',
        match: { generationId: g.upstreamId },
        times: 1,
        action: { kind: 'delay', ms: 5 * LEASE_MS },
      });
      const before = await row(g.id);
      const newOwner = await waitFor(
        'another instance to take over',
        async () => {
          const r = await row(g.id);
          return r.lease_owner && r.lease_owner !== lateName ? r.lease_owner : null;
        },
        10_000,
        10,
      );
      await waitFor('the takeover poll to reach the simulator', () => polls() > pollsBefore + 1, 5_000, 5);
      // From now on the upstream says `completed`: the frozen instance's answer will carry a change.
      simulator.control.forceOutcome(g.upstreamId, 'completed');
      await sleep(Math.max(0, slowArrivedAt + 3 * LEASE_MS + 300 - Date.now())); // its answer is on its socket
      // Only what it logs from now on, and only a line about this generation: an earlier drop (of any
      // generation, on a loaded machine) must not pass for this one.
      const seenBefore = late.output().length;
      late.resume();
      const dropped = () =>
        late
          .output()
          .slice(seenBefore)
          .split('\n')
          .some((line) => line.includes('result dropped') && line.includes(g.id));
      await waitFor('the thawed instance to finish its poll', async () => dropped() || (await row(g.id)).version !== before.version, 10_000, 20);

      // Its answer changed nothing, and the new holder's lease is intact.
      expect(await row(g.id)).toMatchObject({ status: 'GENERATING', version: before.version, lease_owner: newOwner });
      expect(dropped()).toBe(true);
      expect(await leaseLostPolls(late)).toBe(lateLostBefore + 1);

      // The new holder's own (slower) answer completes it: one more version, one COMPLETED transition.
      await waitFor('the new holder to complete it', async () => (await row(g.id)).status === 'COMPLETED', 15_000, 20);
      const { rows } = await db.query('SELECT version, transitions, lease_owner FROM generations WHERE id = $1', [g.id]);
      expect(rows[0].version).toBe(before.version + 1);
      expect(rows[0].lease_owner).toBeNull();
      expect((rows[0].transitions as Array<{ status: string }>).map((t) => t.status)).toEqual(['QUEUED', 'GENERATING', 'COMPLETED']);
      expect(polls()).toBe(pollsBefore + 2);
    } finally {
      late.resume();
    }
  }, 60_000);

  it('kill -9 of the lease holder mid-poll: another instance finishes the generation and its watchers reconnect', async () => {
    const g = await create(gateways[0]!, { model: 'veo2', prompt: 'survives a crash' });
    simulator.control.forceOutcome(g.upstreamId, 'pending');
    // The next poll hangs, so whoever claims it is caught holding the lease.
    simulator.control.injectFault({ endpoint: 'poll', match: { generationId: g.upstreamId }, times: 1, action: { kind: 'delay', ms: 20_000 } });
    const holderName = await waitFor('a lease on the hanging poll', async () => (await row(g.id)).lease_owner, 10_000);
    const holder = alive().find((x) => x.name === holderName)!;
    const other = alive().find((x) => x !== holder)!;
    const onHolder = subscribe(client(holder, true), WATCH, { id: g.id });
    const onOther = subscribe(client(other, true), WATCH, { id: g.id });
    await waitFor('both watchers to get the snapshot', () => onHolder.values.length > 0 && onOther.values.length > 0, 10_000);

    await holder.kill();
    try {
      const killedAt = Date.now();
      simulator.control.forceOutcome(g.upstreamId, 'completed');
      await waitFor('another instance to complete it', async () => (await row(g.id)).status === 'COMPLETED', 15_000, 10);
      const takeoverMs = Date.now() - killedAt;
      console.log(`scale: takeover after kill -9 took ${takeoverMs} ms (lease ${LEASE_MS} ms, longest poll gap ${MAX_POLL_GAP_MS} ms)`);
      // Lease expiry, then at most one poll gap (plus the store round trips of a loaded CI machine).
      expect(takeoverMs).toBeLessThan(LEASE_MS + MAX_POLL_GAP_MS + 1_500);

      await within('both watchers to see the end', Promise.all([onHolder.done, onOther.done]), 15_000);
      for (const w of [onHolder, onOther]) {
        expect(w.errors).toEqual([]);
        expect(w.values.at(-1).videoGenerationUpdated.status).toBe('COMPLETED');
      }
      // The dead instance's hanging poll ended with its socket; the takeover poll did not overlap it.
      expect(simulator.control.counts().maxConcurrentPollsById[g.upstreamId]).toBe(1);
    } finally {
      await startInstance(); // back to three for the next tests, also when this one failed
    }
  }, 60_000);

  it('Redis restarted mid-run: nothing is lost and watchers catch up', async () => {
    const [a, b, c] = alive();
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => create([a!, b!, c!][i % 3]!, { model: 'google/veo3', prompt: `redis ${i}` })),
    );
    const watchers = created.map((g, i) => subscribe(client([a!, b!, c!][(i + 1) % 3]!), WATCH, { id: g.id }));
    const ownerWide = subscribe(client(c!), WATCH_ALL);
    await waitFor('every snapshot', () => watchers.every((w) => w.values.length > 0), 10_000);

    await redis.stop();
    await waitFor('readiness to report Redis down', async () => (await readyz(a!)).body.checks.redis === 'unavailable', 10_000, 100);
    expect((await readyz(a!)).status).toBe(503);
    // Creating still works: the store is the source of truth, events wait for Redis.
    const during = await create(b!, { model: 'veo2', prompt: 'created while Redis is down' });
    // One ends while Redis is away: its last change reaches watchers late, from the publisher's queue
    // or a catch-up from the store (test/scale/redis-fanout.test.ts drops the event for certain).
    simulator.control.forceOutcome(created[0]!.upstreamId, 'completed');
    await waitFor('one to end while Redis is away', async () => (await row(created[0]!.id)).status === 'COMPLETED', 10_000, 50);
    await redis.start();

    await within('every watcher to see its generation end', Promise.all(watchers.map((w) => w.done)), 30_000);
    for (const [i, g] of created.entries()) {
      expectWholeHistory(watchers[i]!.values);
      expect(watchers[i]!.values.at(-1).videoGenerationUpdated.version).toBe((await row(g.id)).version);
    }
    await waitFor('the one created during the outage to end', async () => ['COMPLETED', 'FAILED'].includes((await row(during.id)).status), 15_000);
    await waitFor('readiness to recover', async () => (await readyz(a!)).status === 200, 10_000, 100);

    // The owner-wide stream caught up too: each generation's last version, in order, none twice.
    for (const g of [...created, during]) {
      const { version } = await row(g.id);
      const versions = () =>
        ownerWide.values
          .map((v) => v.videoGenerationsUpdated)
          .filter((u) => u.id === g.id)
          .map((u) => u.version as number);
      await waitFor(`the owner-wide stream to reach version ${version} of ${g.id}`, () => versions().at(-1) === version, 10_000, 50);
      expect(versions()).toEqual([...new Set(versions())].sort((x, y) => x - y));
    }
  }, 60_000);

  it('PostgreSQL restarted mid-run: requests fail with DATABASE_UNAVAILABLE, then everything resumes', async () => {
    const [a, b, c] = alive();
    const created = await Promise.all(
      Array.from({ length: 4 }, (_, i) => create([a!, b!, c!][i % 3]!, { model: 'google/veo3', prompt: `postgres ${i}` })),
    );
    const watchers = created.map((g, i) => subscribe(client([a!, b!, c!][(i + 1) % 3]!), WATCH, { id: g.id }));
    await waitFor('every snapshot', () => watchers.every((w) => w.values.length > 0), 10_000);

    await postgres.stop();
    const query = await post(b!, GET, { id: created[0]!.id });
    // The key was checked a moment ago and is cached, so the request gets as far as its resolver: a
    // GraphQL error in a 200. An uncached key would be refused at the door with a 503 and the same code.
    expect([200, 503]).toContain(query.status);
    expect(query.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    const mutation = await post(c!, CREATE, { input: { model: 'veo2', prompt: 'while the database is down' } });
    expect(mutation.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    const ready = await readyz(a!);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.store).toBe('unavailable');
    // A client connecting now is told to try again later (1013), which graphql-ws clients do.
    const late = subscribe(client(a!, true), WATCH, { id: created[1]!.id });
    await sleep(500);
    await postgres.start();

    await within('every watcher to see its generation end', Promise.all([...watchers, late].map((w) => w.done)), 30_000);
    for (const w of [...watchers, late]) expectWholeHistory(w.values);
    expect(late.errors).toEqual([]);
    const after = await post(b!, GET, { id: created[0]!.id });
    expect(after.body.data.videoGeneration.status).toBe(watchers[0]!.values.at(-1).videoGenerationUpdated.status);
    for (const g of alive()) expect((await readyz(g)).status).toBe(200);
    // No instance died of it.
    expect(alive()).toHaveLength(3);
  }, 60_000);

  it('a 429 seen by one instance pauses creates on all of them', async () => {
    const [a, b] = alive();
    simulator.control.injectFault({ endpoint: 'create', times: 1, action: { kind: 'status', status: 429, retryAfter: '2' } });
    const first = await post(a!, CREATE, { input: { model: 'veo2', prompt: 'rate limited' } });
    expect(first.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    await waitFor(
      'the other instance to learn of the pause',
      async () => /backing off/.test((await readyz(b!)).body.checks.upstream ?? ''),
      5_000,
      50,
    );
    simulator.control.resetCounts();
    const second = await post(b!, CREATE, { input: { model: 'veo2', prompt: 'refused without asking the upstream' } });
    expect(second.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(simulator.control.counts().create).toBe(0);
  }, 30_000);

  it('per-owner quotas are shared: creations counted on one instance count on the others', async () => {
    const quota = { QUOTA_CREATES_PER_MINUTE: '3', QUOTA_REQUESTS_PER_SECOND: '50' };
    const [c, d] = await Promise.all([startInstance(quota), startInstance(quota)]);
    for (const g of [c!, d!]) {
      await waitFor('no shared back-off left from the 429 test', async () => (await readyz(g)).body.checks.upstream === 'ok', 10_000, 50);
    }
    simulator.control.resetCounts();
    const answers = [];
    for (const g of [c, d, c, d]) answers.push(await post(g!, CREATE, { input: { model: 'veo2', prompt: 'quota' } }));
    expect(answers.slice(0, 3).map((a) => a.body.data?.createVideoGeneration?.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);
    const refused = answers[3]!.body.errors?.[0];
    expect(refused?.extensions?.code).toBe('RATE_LIMITED');
    expect(refused?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(simulator.control.counts().create).toBe(3);
    await Promise.all([c!.stop(), d!.stop()]);
  }, 60_000);

  it('an instance stops promptly and cleanly (exit code 0) even while Redis is away', async () => {
    const [a] = alive();
    const watcher = subscribe(client(a!), WATCH_ALL);
    await sleep(200);
    await redis.stop();
    await sleep(300);
    watcher.unsubscribe(); // an unsubscribe that cannot reach Redis
    await a!.stop();
    expect(a!.exitCode).toBe(0);
    await redis.start();
  }, 30_000);
});
