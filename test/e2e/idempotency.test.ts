/**
 * Idempotency keys: the same owner, key and input give the same generation and a single paid
 * upstream create, however often and however concurrently the request is sent.
 */
import { CREATE, GET, gql, gqlData, waitFor, useGateway } from '../helpers/gateway';

const LIST = `query { videoGenerations(first: 100) { nodes { id } } }`;

describe('idempotent creates', () => {
  const gw = useGateway();
  let owners = 0;

  afterEach(() => gw.simulator.control.clearFaults());

  const creates = () => gw.simulator.control.counts().create;
  /** A fresh owner per test, so lists and keys never overlap. */
  const newOwner = () => gw.keyFor(`idem-owner-${++owners}`);
  const create = (key: string, input: Record<string, unknown>) => gql(gw, key, CREATE, { input });
  const list = async (key: string) => (await gqlData(gw, key, LIST)).videoGenerations.nodes as Array<{ id: string }>;

  it('should return the same generation for the same owner, key and input, with one upstream create', async () => {
    const key = await newOwner();
    const before = creates();
    const input = { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk', durationSeconds: 6, idempotencyKey: 'same-1' };
    const first = await create(key, input);
    const second = await create(key, input);
    const third = await create(key, input);
    expect(first.body.errors).toBeUndefined();
    expect(second.body.errors).toBeUndefined();
    expect(third.body.errors).toBeUndefined();
    const id = first.body.data.createVideoGeneration.id;
    expect(second.body.data.createVideoGeneration.id).toBe(id);
    expect(third.body.data.createVideoGeneration.id).toBe(id);
    expect(second.body.data.createVideoGeneration.idempotencyKey).toBe('same-1');
    expect(creates()).toBe(before + 1);
    expect(await list(key)).toEqual([{ id }]);
  });

  it('should refuse the same key with a different input as IDEMPOTENCY_CONFLICT, without an upstream create', async () => {
    const key = await newOwner();
    const before = creates();
    const first = await create(key, { model: 'google/veo-3.0-fast', prompt: 'a red fox', idempotencyKey: 'conflict-1' });
    expect(first.body.errors).toBeUndefined();
    const id = first.body.data.createVideoGeneration.id;

    for (const other of [
      { model: 'google/veo-3.0-fast', prompt: 'a blue fox', idempotencyKey: 'conflict-1' },
      { model: 'google/veo3', prompt: 'a red fox', idempotencyKey: 'conflict-1' },
      { model: 'google/veo-3.0-fast', prompt: 'a red fox', durationSeconds: 4, idempotencyKey: 'conflict-1' },
    ]) {
      const res = await create(key, other);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors![0]!.extensions!.code).toBe('IDEMPOTENCY_CONFLICT');
      expect(res.body.errors![0]!.extensions!.generationId).toBe(id);
    }
    expect(creates()).toBe(before + 1);
    expect(await list(key)).toEqual([{ id }]);
  });

  it("should keep one owner's key independent of another owner's", async () => {
    const alice = await newOwner();
    const bob = await newOwner();
    const before = creates();
    const input = { model: 'google/veo-3.0-fast', prompt: 'two owners, one key', idempotencyKey: 'shared-key' };
    const a = await create(alice, input);
    const b = await create(bob, input);
    expect(a.body.errors).toBeUndefined();
    expect(b.body.errors).toBeUndefined();
    const aId = a.body.data.createVideoGeneration.id;
    const bId = b.body.data.createVideoGeneration.id;
    expect(aId).not.toBe(bId);
    expect(creates()).toBe(before + 2);

    // A different input under the same key is no conflict for the other owner either.
    const c = await create(bob, { ...input, prompt: 'still independent', idempotencyKey: 'other-key' });
    expect(c.body.errors).toBeUndefined();
    const aAgain = await create(alice, input);
    expect(aAgain.body.data.createVideoGeneration.id).toBe(aId);
    expect((await list(alice)).map((g) => g.id)).toEqual([aId]);
    expect((await list(bob)).map((g) => g.id).sort()).toEqual([bId, c.body.data.createVideoGeneration.id].sort());

    // Neither can read the other's generation.
    const cross = await gql(gw, bob, GET, { id: aId });
    expect(cross.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('should make five concurrent identical requests one generation and one upstream create', async () => {
    const key = await newOwner();
    const before = creates();
    // Slow the create down so that all five requests overlap with it.
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'delay', ms: 300 } });
    const input = { model: 'google/veo-3.0-fast', prompt: 'five at once', idempotencyKey: 'burst-1' };
    const results = await Promise.all(Array.from({ length: 5 }, () => create(key, input)));
    for (const r of results) expect(r.body.errors).toBeUndefined();
    const ids = new Set(results.map((r) => r.body.data.createVideoGeneration.id));
    expect(ids.size).toBe(1);
    expect(creates()).toBe(before + 1);
    expect((await list(key)).map((g) => g.id)).toEqual([...ids]);

    // It goes on to complete like any other.
    const [id] = [...ids];
    const done = await waitFor('completion', async () => {
      const g = (await gqlData(gw, key, GET, { id })).videoGeneration;
      return g.status === 'COMPLETED' ? g : null;
    });
    expect(done.upstreamId).toBeTruthy();
    expect(creates()).toBe(before + 1);
  });

  it('should let exactly one of several concurrent requests with different inputs win a key', async () => {
    const key = await newOwner();
    const before = creates();
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'delay', ms: 200 } });
    const results = await Promise.all(
      ['one', 'two', 'three', 'four'].map((p) => create(key, { model: 'google/veo-3.0-fast', prompt: p, idempotencyKey: 'race-1' })),
    );
    const won = results.filter((r) => !r.body.errors);
    const lost = results.filter((r) => r.body.errors);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(3);
    for (const r of lost) expect(r.body.errors![0]!.extensions!.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(creates()).toBe(before + 1);
  });

  it('should ignore the order of fields in the input, and treat null like absent', async () => {
    const key = await newOwner();
    const before = creates();
    const first = await create(key, {
      model: 'google/veo-3.1-t2v',
      prompt: 'order does not matter',
      durationSeconds: 6,
      aspectRatio: 'PORTRAIT_9_16',
      seed: 42,
      generateAudio: false,
      idempotencyKey: 'order-1',
    });
    const reordered = await create(key, {
      idempotencyKey: 'order-1',
      generateAudio: false,
      seed: 42,
      aspectRatio: 'PORTRAIT_9_16',
      durationSeconds: 6,
      prompt: 'order does not matter',
      model: 'google/veo-3.1-t2v',
      negativePrompt: null,
    });
    // And in the document, as literals rather than variables.
    const literal = await gql(
      gw,
      key,
      `mutation { createVideoGeneration(input: {
        idempotencyKey: "order-1", seed: 42, generateAudio: false, model: "google/veo-3.1-t2v",
        aspectRatio: PORTRAIT_9_16, prompt: "order does not matter", durationSeconds: 6
      }) { id } }`,
    );
    expect(first.body.errors).toBeUndefined();
    expect(reordered.body.errors).toBeUndefined();
    expect(literal.body.errors).toBeUndefined();
    const id = first.body.data.createVideoGeneration.id;
    expect(reordered.body.data.createVideoGeneration.id).toBe(id);
    expect(literal.body.data.createVideoGeneration.id).toBe(id);
    expect(creates()).toBe(before + 1);
  });

  it('should return the completed generation when a key is replayed after completion', async () => {
    const key = await newOwner();
    const before = creates();
    const input = { model: 'veo2', prompt: 'replay me later', idempotencyKey: 'replay-1' };
    const first = await create(key, input);
    expect(first.body.errors).toBeUndefined();
    const id = first.body.data.createVideoGeneration.id;
    const completed = await waitFor('completion', async () => {
      const g = (await gqlData(gw, key, GET, { id })).videoGeneration;
      return g.status === 'COMPLETED' ? g : null;
    });
    const polls = () => gw.simulator.control.counts().pollsById[completed.upstreamId];
    const pollsBefore = polls();

    const replay = await create(key, input);
    expect(replay.body.errors).toBeUndefined();
    const g = replay.body.data.createVideoGeneration;
    expect(g.id).toBe(id);
    expect(g.status).toBe('COMPLETED');
    expect(g.video.url).toBe(completed.video.url);
    expect(g.version).toBe(completed.version);
    expect(creates()).toBe(before + 1);
    // Replaying reads the stored generation; it does not ask the upstream again.
    expect(polls()).toBe(pollsBefore);
  });

  it('should let a key be used again after the upstream definitely refused the create', async () => {
    const key = await newOwner();
    const before = creates();
    const input = { model: 'google/veo-3.0-fast', prompt: 'refused then retried', idempotencyKey: 'retry-after-500' };
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 500 } });
    const refused = await create(key, input);
    expect(refused.body.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(await list(key)).toEqual([]);

    const retried = await create(key, input);
    expect(retried.body.errors).toBeUndefined();
    const again = await create(key, input);
    expect(again.body.data.createVideoGeneration.id).toBe(retried.body.data.createVideoGeneration.id);
    expect(creates()).toBe(before + 2);
  });

  it('should not retry a create whose outcome is unknown when its key is replayed', async () => {
    const key = await newOwner();
    const before = creates();
    const input = { model: 'google/veo-3.0-fast', prompt: 'lost answer', idempotencyKey: 'unknown-1' };
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'dropAfterCreate' } });
    const first = await create(key, input);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.createVideoGeneration.status).toBe('FAILED');
    expect(first.body.data.createVideoGeneration.error.code).toBe('CREATE_OUTCOME_UNKNOWN');

    const replay = await create(key, input);
    expect(replay.body.errors).toBeUndefined();
    expect(replay.body.data.createVideoGeneration.id).toBe(first.body.data.createVideoGeneration.id);
    expect(replay.body.data.createVideoGeneration.status).toBe('FAILED');
    expect(creates()).toBe(before + 1);
  });
});
