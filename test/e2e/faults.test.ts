/**
 * Every way the upstream (or the network in front of it) misbehaves, as a client sees it.
 *
 * On create: a definite refusal is an error and nothing is stored; an answer that may have been
 * lost is a FAILED generation with CREATE_OUTCOME_UNKNOWN. Either way the paid create is sent once.
 * On poll: a failed poll is retried, never lost, so the generation still completes.
 */
import { CREATE, GET, SIMULATOR_KEY, gql, gqlData, sleep, startGateway, waitFor, type TestGateway } from '../helpers/gateway';
import type { FaultAction } from '../../src/simulator';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const LIST = `query { videoGenerations(first: 100) { nodes { id status error { code } } } }`;
const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' };

function harness(env: Record<string, string> = {}) {
  const h = {
    gw: undefined as unknown as TestGateway,
    owners: 0,
    creates: () => h.gw.simulator.control.counts().create,
    jobs: () => h.gw.simulator.control.jobs().length,
    newOwner: () => h.gw.keyFor(`faults-owner-${++h.owners}`),
    list: async (key: string) => (await gqlData(h.gw, key, LIST)).videoGenerations.nodes as any[],
    get: async (key: string, id: string) => (await gqlData(h.gw, key, GET, { id })).videoGeneration,
    probe: async (path: '/healthz' | '/readyz') => {
      const res = await fetch(h.gw.app.url.replace(/\/graphql$/, path));
      return { status: res.status, body: (await res.json()) as any };
    },
  };
  beforeAll(async () => {
    h.gw = await startGateway({ env });
  }, START_TIMEOUT_MS);
  afterAll(() => h.gw.stop());
  afterEach(async () => {
    h.gw.simulator.control.clearFaults();
    expect((await h.probe('/healthz')).status).toBe(200);
  });
  return h;
}

describe('faults on create', () => {
  const h = harness({ UPSTREAM_CREATE_TIMEOUT_MS: '1000' });

  async function expectRefused(action: FaultAction, code: string) {
    const key = await h.newOwner();
    const before = h.creates();
    const jobsBefore = h.jobs();
    h.gw.simulator.control.injectFault({ endpoint: 'create', action });
    const res = await gql(h.gw, key, CREATE, { input: INPUT });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    const error = res.body.errors![0]!;
    expect(error.extensions!.code).toBe(code);
    expect(h.creates()).toBe(before + 1);
    expect(h.jobs()).toBe(jobsBefore);
    // A definite refusal stores nothing.
    expect(await h.list(key)).toEqual([]);
    await sleep(200);
    expect(h.creates()).toBe(before + 1);
    return res;
  }

  async function expectOutcomeUnknown(action: FaultAction, options: { jobCreated: boolean; settleMs?: number }) {
    const key = await h.newOwner();
    const before = h.creates();
    const jobsBefore = h.jobs();
    h.gw.simulator.control.injectFault({ endpoint: 'create', action });
    const res = await gql(h.gw, key, CREATE, { input: INPUT });
    expect(res.body.errors).toBeUndefined();
    const g = res.body.data.createVideoGeneration;
    expect(g.status).toBe('FAILED');
    expect(g.error.code).toBe('CREATE_OUTCOME_UNKNOWN');
    expect(g.upstreamId).toBeNull();
    expect(g.completedAt).toBeTruthy();
    expect(h.creates()).toBe(before + 1);
    expect(h.jobs()).toBe(jobsBefore + (options.jobCreated ? 1 : 0));

    // It stays that way: never re-sent, never polled (no other generation is in flight in this gateway).
    const pollsBefore = h.gw.simulator.control.counts().poll;
    await sleep(options.settleMs ?? 300);
    expect(h.creates()).toBe(before + 1);
    expect(h.gw.simulator.control.counts().poll).toBe(pollsBefore);
    const now = await h.get(key, g.id);
    expect(now.status).toBe('FAILED');
    expect(now.error.code).toBe('CREATE_OUTCOME_UNKNOWN');
    expect((await h.list(key)).map((x) => x.id)).toEqual([g.id]);
    return g;
  }

  it('should report a 500 as UPSTREAM_UNAVAILABLE and store nothing', async () => {
    const res = await expectRefused({ kind: 'status', status: 500 }, 'UPSTREAM_UNAVAILABLE');
    expect(res.body.errors![0]!.message).toMatch(/500/);
  });

  it('should report a 400 as UPSTREAM_REJECTED with the reason cleaned of the upstream key', async () => {
    const res = await expectRefused(
      {
        kind: 'status',
        status: 400,
        body: {
          statusCode: 400,
          message: `Body validation error!\nThe key ${SIMULATOR_KEY} may not use this model (Authorization: Bearer ${SIMULATOR_KEY})`,
          path: '/v2/video/generations',
          requestId: '6d1f0d1c-3f3e-4a43-9d7a-2f0a8d2f1c11',
          timestamp: new Date().toISOString(),
        },
      },
      'UPSTREAM_REJECTED',
    );
    const error = res.body.errors![0]!;
    expect(error.message).toContain('Body validation error!');
    expect(error.message).toContain('may not use this model');
    expect(error.message).not.toMatch(/[\n\r]/);
    expect(error.extensions!.upstreamStatus).toBe(400);
    expect(res.text).not.toContain(SIMULATOR_KEY);
    expect(res.text).not.toContain(SIMULATOR_KEY.slice(0, 16));
    expect(h.gw.logs.join('')).not.toContain(SIMULATOR_KEY);
  });

  it('should report an HTML 502 page as UPSTREAM_UNAVAILABLE without the HTML', async () => {
    const res = await expectRefused({ kind: 'html' }, 'UPSTREAM_UNAVAILABLE');
    expect(res.body.errors![0]!.message).not.toMatch(/<\/?[a-z]+/i);
    expect(res.body.errors![0]!.message).toMatch(/502/);
  });

  it('should mark a create answered 200 with malformed JSON as FAILED CREATE_OUTCOME_UNKNOWN', async () => {
    await expectOutcomeUnknown({ kind: 'malformed' }, { jobCreated: true });
  });

  it('should mark a create that stalls past the create timeout as FAILED CREATE_OUTCOME_UNKNOWN, sent once', async () => {
    const startedAt = Date.now();
    await expectOutcomeUnknown({ kind: 'stall' }, { jobCreated: false, settleMs: 1_500 });
    // It waited for the create timeout (undici's clock is ~1 s coarse), not for ever.
    const took = Date.now() - startedAt;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(8_000);
  });

  it('should mark a create whose connection drops before the answer as FAILED CREATE_OUTCOME_UNKNOWN', async () => {
    await expectOutcomeUnknown({ kind: 'drop' }, { jobCreated: false });
  });

  it('should mark a create whose connection drops after the job was made as FAILED CREATE_OUTCOME_UNKNOWN', async () => {
    await expectOutcomeUnknown({ kind: 'dropAfterCreate' }, { jobCreated: true });
  });

  it('should still create normally after all of the above', async () => {
    const key = await h.newOwner();
    const before = h.creates();
    const g = (await gqlData(h.gw, key, CREATE, { input: INPUT })).createVideoGeneration;
    expect(g.status).toMatch(/^(QUEUED|GENERATING)$/);
    expect(g.upstreamId).toBeTruthy();
    const done = await waitFor('completion', async () => {
      const now = await h.get(key, g.id);
      return now.status === 'COMPLETED' ? now : null;
    });
    expect(done.video.url).toBeTruthy();
    expect(h.creates()).toBe(before + 1);
  });
});

describe('rate limiting on create', () => {
  const h = harness();

  it('should report a 429 as RATE_LIMITED with retryAfterSeconds, and refuse creates during the backoff without calling the upstream', async () => {
    const key = await h.newOwner();
    const before = h.creates();
    h.gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 429, retryAfter: '2' } });

    const res = await gql(h.gw, key, CREATE, { input: INPUT });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    const retryAfter = res.body.errors![0]!.extensions!.retryAfterSeconds;
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(h.creates()).toBe(before + 1);
    expect(await h.list(key)).toEqual([]);

    // During the backoff: refused at once, the upstream is not called, nothing is stored.
    const again = await gql(h.gw, key, CREATE, { input: { ...INPUT, prompt: 'right after' } });
    expect(again.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(again.body.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(again.body.errors![0]!.extensions!.retryAfterSeconds).toBeLessThanOrEqual(2);
    const otherOwner = await h.newOwner();
    const other = await gql(h.gw, otherOwner, CREATE, { input: INPUT });
    expect(other.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(h.creates()).toBe(before + 1);
    expect(await h.list(key)).toEqual([]);

    // The gateway stays ready and says why it is waiting.
    const ready = await h.probe('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.upstream).toMatch(/^backing off \d+s$/);

    // Once the backoff has passed, creates go through again.
    await waitFor('the backoff to pass', async () => (await h.probe('/readyz')).body.checks.upstream === 'ok', 5_000);
    const after = await gql(h.gw, key, CREATE, { input: { ...INPUT, prompt: 'after the backoff' } });
    expect(after.body.errors).toBeUndefined();
    expect(h.creates()).toBe(before + 2);
  });

  it('should back off by itself on a 429 without Retry-After', async () => {
    const key = await h.newOwner();
    const before = h.creates();
    h.gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 429 } });
    const res = await gql(h.gw, key, CREATE, { input: INPUT });
    expect(res.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(res.body.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    const again = await gql(h.gw, key, CREATE, { input: INPUT });
    expect(again.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(h.creates()).toBe(before + 1);
    expect(await h.list(key)).toEqual([]);
    await waitFor('the backoff to pass', async () => (await h.probe('/readyz')).body.checks.upstream === 'ok', 5_000);
  });
});

describe('faults on poll', () => {
  const h = harness({ UPSTREAM_POLL_TIMEOUT_MS: '1000' });

  /** Creates, injects `action` on the next `times` polls of that job, and expects it to complete anyway. */
  async function expectCompletesDespite(action: FaultAction, times: number, during?: () => Promise<void>) {
    const key = await h.newOwner();
    const before = h.creates();
    const g = (await gqlData(h.gw, key, CREATE, { input: INPUT })).createVideoGeneration;
    expect(g.upstreamId).toBeTruthy();
    const faultId = h.gw.simulator.control.injectFault({
      endpoint: 'poll',
      match: { generationId: g.upstreamId },
      times,
      action,
    });
    await during?.();
    const done = await waitFor(
      'completion',
      async () => {
        const now = await h.get(key, g.id);
        expect(['QUEUED', 'GENERATING', 'COMPLETED']).toContain(now.status);
        return now.status === 'COMPLETED' ? now : null;
      },
      20_000,
    );
    expect(done.video.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/.+\.mp4\?Expires=\d+&Signature=[\w-]+$/);
    expect(done.error).toBeNull();
    // Every faulted poll really happened (the fault is used up), and more polls followed.
    expect(h.gw.simulator.control.removeFault(faultId)).toBe(false);
    expect(h.gw.simulator.control.counts().pollsById[g.upstreamId]).toBeGreaterThan(times);
    expect(h.creates()).toBe(before + 1);
    return done;
  }

  it('should complete despite 500s on several polls in a row', async () => {
    await expectCompletesDespite({ kind: 'status', status: 500 }, 5);
  });

  it('should complete despite HTML error pages on polls', async () => {
    await expectCompletesDespite({ kind: 'html' }, 3);
  });

  it('should complete despite malformed JSON on polls', async () => {
    await expectCompletesDespite({ kind: 'malformed' }, 3);
  });

  it('should complete despite dropped connections on polls', async () => {
    await expectCompletesDespite({ kind: 'drop' }, 3);
  });

  it('should complete despite a poll that stalls past the poll timeout', async () => {
    const startedAt = Date.now();
    await expectCompletesDespite({ kind: 'stall' }, 1);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
  });

  it('should complete despite a single 404', async () => {
    await expectCompletesDespite({ kind: 'status', status: 404 }, 1);
  });

  it('should complete despite 429s with Retry-After, pausing creates and staying ready meanwhile', async () => {
    let sawBackoff = false;
    await expectCompletesDespite({ kind: 'status', status: 429, retryAfter: '1' }, 3, async () => {
      // Three 429s in a row exhaust the client's own retries: the poller then backs off globally.
      await waitFor(
        'the global backoff',
        async () => {
          const ready = await h.probe('/readyz');
          expect(ready.status).toBe(200);
          return /^backing off/.test(ready.body.checks.upstream);
        },
        10_000,
        10,
      );
      sawBackoff = true;
      // The key is shared: a create during the backoff is refused without reaching the upstream.
      const key = await h.newOwner();
      const before = h.creates();
      const res = await gql(h.gw, key, CREATE, { input: { ...INPUT, prompt: 'during the poll backoff' } });
      expect(res.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
      expect(res.body.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(h.creates()).toBe(before);
    });
    expect(sawBackoff).toBe(true);
    const ready = await h.probe('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks.poller).toBe('ok');
  });

  it('should mark a generation the upstream keeps answering 404 for as FAILED UPSTREAM_LOST', async () => {
    const key = await h.newOwner();
    const before = h.creates();
    const g = (await gqlData(h.gw, key, CREATE, { input: INPUT })).createVideoGeneration;
    h.gw.simulator.control.injectFault({
      endpoint: 'poll',
      match: { generationId: g.upstreamId },
      times: Infinity,
      action: { kind: 'status', status: 404 },
    });
    const lost = await waitFor('the generation to be lost', async () => {
      const now = await h.get(key, g.id);
      return now.status === 'FAILED' ? now : null;
    });
    expect(lost.error.code).toBe('UPSTREAM_LOST');
    expect(lost.video).toBeNull();
    expect(lost.completedAt).toBeTruthy();
    // Lost is final: no more polls, no re-create.
    const polls = h.gw.simulator.control.counts().pollsById[g.upstreamId];
    expect(polls).toBeGreaterThanOrEqual(3);
    await sleep(300);
    expect(h.gw.simulator.control.counts().pollsById[g.upstreamId]).toBe(polls);
    expect(h.creates()).toBe(before + 1);
  });
});
