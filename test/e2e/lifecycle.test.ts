/**
 * End-to-end lifecycle: every catalogue model created over HTTP and followed over graphql-ws to its
 * end, plus the ways a generation ends without a video (upstream error, no URL, unknown status
 * then deadline, cancel) and the list query with paging and filters.
 */
import type { Client } from 'graphql-ws';
import { DEFAULT_ERROR_BODY } from '../../src/simulator';
import { MODELS } from '../../src/upstream/models';
import { CREATE_REQUESTS } from '../fixtures/upstream-requests';
import {
  CancelVideoGenerationDocument,
  CreateVideoGenerationDocument,
  VideoGenerationDocument,
  VideoGenerationUpdatedDocument,
  collect,
  gql,
  gqlData,
  sleep,
  startGateway,
  waitFor,
  wsClient,
  type TestGateway,
  within,
  useGateway,
} from '../helpers/gateway';
import type { CreateVideoGenerationInput } from '../../src/web/generated/graphql';

const LIST = `query List($first: Int, $after: String, $filter: VideoGenerationFilter) {
  videoGenerations(first: $first, after: $after, filter: $filter) {
    nodes { id model status createdAt }
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const ASPECT: Record<string, string> = { '16:9': 'LANDSCAPE_16_9', '9:16': 'PORTRAIT_9_16', auto: 'AUTO' };
const RESOLUTION: Record<string, string> = { '720p': 'RES_720P', '1080p': 'RES_1080P' };

/** Maps an upstream create body (wire names, wire casing) to the GraphQL input a client sends. */
function graphqlInput(modelId: string, body: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = { model: modelId };
  for (const [field, value] of Object.entries(body)) {
    switch (field) {
      case 'model':
        break;
      case 'prompt':
        input.prompt = value;
        break;
      case 'image_url':
        input.imageUrl = value;
        break;
      case 'last_image_url':
      case 'tail_image_url':
        input.lastImageUrl = value;
        break;
      case 'image_urls':
        input.imageUrls = value;
        break;
      case 'video_url':
        input.videoUrl = value;
        break;
      case 'duration':
        input.durationSeconds = value;
        break;
      case 'aspect_ratio':
        input.aspectRatio = ASPECT[String(value)];
        break;
      case 'resolution':
        input.resolution = RESOLUTION[String(value).toLowerCase()];
        break;
      case 'negative_prompt':
        input.negativePrompt = value;
        break;
      case 'seed':
        input.seed = value;
        break;
      case 'enhance_prompt':
        input.enhancePrompt = value;
        break;
      case 'generate_audio':
        input.generateAudio = value;
        break;
      case 'auto_fix':
        input.autoFix = value;
        break;
      case 'person_generation':
        input.personGeneration = String(value).toUpperCase();
        break;
      case 'provider':
        input.provider = String(value) === 'google' ? 'NATIVE' : String(value).toUpperCase();
        break;
      default:
        throw new Error(`no GraphQL input field for wire field ${field}`);
    }
    if (field !== 'model' && Object.values(input).some((v) => v === undefined)) {
      throw new Error(`unmapped value ${String(value)} of ${field}`);
    }
  }
  return input;
}

/** Follows one generation over graphql-ws until it completes; returns every payload. */
async function follow(gw: TestGateway, key: string, id: string, clients: Client[], timeoutMs = 10_000) {
  const client = wsClient(gw, key);
  clients.push(client);
  const sub = collect(client, VideoGenerationUpdatedDocument, { id });
  try {
    await within(`the subscription to ${id} to complete`, sub.done, timeoutMs);
  } finally {
    sub.unsubscribe();
  }
  expect(sub.errors).toEqual([]);
  return sub.values.map((v) => v.videoGenerationUpdated);
}

function expectIncreasingTimes(transitions: Array<{ at: string }>): void {
  const times = transitions.map((t) => Date.parse(t.at));
  for (const t of times) expect(Number.isNaN(t)).toBe(false);
  for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
}

describe('generation lifecycle', () => {
  const gw = useGateway();
  let key: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    key = await gw.keyFor('alice');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  describe('every model in the catalogue', () => {
    interface Run {
      input: Record<string, unknown>;
      created: any;
      createsBefore: number;
      createsAfter: number;
      modelCreatesBefore: number;
      modelCreatesAfter: number;
      updates: any[];
      errors: unknown[];
    }
    /** One run per model, started together in beforeAll so the simulated waits overlap. */
    const runs = new Map<string, Promise<Run>>();
    const runClients: Client[] = [];

    beforeAll(() => {
      // The Veo models send their documented fixture requests (every option they take); every other
      // model the minimal input `videoModels` offers, built from its catalogue entry.
      const examples = gqlData(gw, key, '{ videoModels { id exampleInput } }', {}).then(
        (d: { videoModels: { id: string; exampleInput: Record<string, unknown> }[] }) => new Map(d.videoModels.map((m) => [m.id, m.exampleInput])),
      );
      let previousCreate: Promise<unknown> = examples;
      for (const model of MODELS) {
        // Creates one after another, so each count difference belongs to exactly one mutation.
        const created = previousCreate.then(async () => {
          const fixture = CREATE_REQUESTS[model.id];
          const input = fixture ? graphqlInput(model.id, fixture) : (await examples).get(model.id)!;
          const before = gw.simulator.control.counts();
          const { createVideoGeneration } = await gqlData(gw, key, CreateVideoGenerationDocument, { input: input as CreateVideoGenerationInput });
          const after = gw.simulator.control.counts();
          return {
            input,
            created: createVideoGeneration,
            createsBefore: before.create,
            createsAfter: after.create,
            modelCreatesBefore: before.createsByModel[model.id] ?? 0,
            modelCreatesAfter: after.createsByModel[model.id] ?? 0,
          };
        });
        previousCreate = created.catch(() => undefined);
        const run = created.then(async (c) => {
          // Hold the job in `generating` until the gateway has reported it: on a loaded machine a
          // time-scaled job can otherwise pass through that state between two polls.
          gw.simulator.control.forceOutcome(c.created.upstreamId!, 'pending');
          const client = wsClient(gw, key);
          runClients.push(client);
          const sub = collect(client, VideoGenerationUpdatedDocument, { id: c.created.id });
          try {
            await waitFor(
              `${model.id} to be reported GENERATING`,
              () => sub.values.some((v) => v.videoGenerationUpdated.status === 'GENERATING'),
              20_000,
            );
            gw.simulator.control.forceOutcome(c.created.upstreamId!, 'completed');
            await within(`the subscription to ${model.id} to complete`, sub.done, 20_000);
          } finally {
            sub.unsubscribe();
          }
          return { ...c, updates: sub.values.map((v) => v.videoGenerationUpdated), errors: sub.errors };
        });
        run.catch(() => undefined); // reported by the model's own test
        runs.set(model.id, run);
      }
    });

    afterAll(async () => {
      await Promise.allSettled(runs.values());
      await Promise.all(runClients.splice(0).map((c) => c.dispose()));
    });

    it('should serve all 143 models the vendor documents, and have a fixture request for each Veo model', () => {
      expect(MODELS).toHaveLength(143);
      for (const id of Object.keys(CREATE_REQUESTS)) expect(MODELS.map((m) => m.id)).toContain(id);
    });

    it.each(MODELS.map((m) => [m.id, m] as const))(
      'should take %s from QUEUED through GENERATING to COMPLETED with a playable MP4',
      async (id, model) => {
        const { input, created, updates, errors, ...counts } = await runs.get(id)!;
        expect(created.model).toBe(id);
        expect(created.status).toBe('QUEUED');
        expect(created.upstreamId).toEqual(expect.any(String));
        expect(created.video).toBeNull();
        // Exactly one create upstream for this mutation, of this model.
        expect(counts.createsAfter).toBe(counts.createsBefore + 1);
        expect(counts.modelCreatesAfter).toBe(counts.modelCreatesBefore + 1);
        // What the client asked for is what it reads back.
        expect(created.prompt).toBe(input.prompt ?? null);
        for (const [field, value] of Object.entries(input)) {
          if (field in created.settings) expect(created.settings[field]).toEqual(value);
        }

        expect(errors).toEqual([]);
        const last = updates.at(-1)!;
        expect(last.status).toBe('COMPLETED');
        expect(last.progress).toBe(1);
        expect(last.etaSeconds).toBe(0);
        expect(last.error).toBeNull();
        expect(last.completedAt).toEqual(expect.any(String));
        expect(last.usage).toEqual({ credits: expect.any(Number), usd: expect.any(Number) });
        expect(last.usage.usd).toBeGreaterThan(0);
        expect(last.usage.credits).toBeGreaterThan(0);
        expect(last.transitions.map((t: { status: string }) => t.status)).toEqual(['QUEUED', 'GENERATING', 'COMPLETED']);
        expectIncreasingTimes(last.transitions);
        expect(last.video).toEqual(
          // The simulator's links are signed and expire, as the upstream's are.
          expect.objectContaining({
            url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/.+\.mp4\?Expires=\d+&Signature=[\w-]+$/),
            contentType: 'video/mp4',
          }),
        );
        // Progress only moves forward while it runs.
        const progress = updates.map((u) => u.progress as number);
        for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);

        const res = await fetch(last.video.url);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('video/mp4');
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp'); // an ISO BMFF (MP4) file
        if (last.video.sizeBytes != null) expect(bytes.length).toBe(last.video.sizeBytes);

        // The query agrees with the subscription, and following it sent no second create.
        const { videoGeneration } = await gqlData(gw, key, VideoGenerationDocument, { id: created.id });
        expect(videoGeneration).toEqual(last);
        expect(gw.simulator.control.counts().createsByModel[model.id]).toBe(counts.modelCreatesAfter);
      },
    );
  });

  it('should send exactly one create upstream per mutation, even for a burst of parallel mutations', async () => {
    const before = gw.simulator.control.counts().create;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        gqlData(gw, key, CreateVideoGenerationDocument, { input: { model: 'google/veo-3.1-t2v-fast', prompt: `burst ${i}`, durationSeconds: 4 } }),
      ),
    );
    const ids = results.map((r) => r.createVideoGeneration.id);
    expect(new Set(ids).size).toBe(10);
    expect(gw.simulator.control.counts().create).toBe(before + 10);
    await waitFor(
      'the burst to complete',
      async () => {
        const all = await Promise.all(ids.map((id) => gqlData(gw, key, VideoGenerationDocument, { id })));
        return all.every((r) => r.videoGeneration?.status === 'COMPLETED');
      },
      10_000,
      50,
    );
    expect(gw.simulator.control.counts().create).toBe(before + 10);
  });

  it('should end FAILED with UPSTREAM_FAILED and the upstream message when the upstream reports an error', async () => {
    const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
      input: { model: 'google/veo3', prompt: 'a rejected prompt' },
    });
    gw.simulator.control.forceOutcome(g.upstreamId!, 'error');
    const updates = await follow(gw, key, g.id, clients);
    const last = updates.at(-1)!;
    expect(last.status).toBe('FAILED');
    expect(last.video).toBeNull();
    expect(last.progress).toBeNull();
    expect(last.error).toEqual({ code: 'UPSTREAM_FAILED', message: DEFAULT_ERROR_BODY.message, upstream: DEFAULT_ERROR_BODY });
    expect(last.transitions.at(-1)).toEqual(expect.objectContaining({ status: 'FAILED', upstreamStatus: 'error' }));
    expectIncreasingTimes(last.transitions);
  });

  it('should carry a custom upstream error body through to the client', async () => {
    const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, { input: { model: 'veo2', prompt: 'quota' } });
    const errorBody = { message: 'Insufficient credits for this generation', code: 'billing' };
    gw.simulator.control.forceOutcome(g.upstreamId!, 'error', errorBody);
    const last = (await follow(gw, key, g.id, clients)).at(-1)!;
    expect(last.status).toBe('FAILED');
    expect(last.error).toEqual({ code: 'UPSTREAM_FAILED', message: errorBody.message, upstream: errorBody });
  });

  it('should end FAILED with NO_VIDEO when the upstream completes without a video URL', async () => {
    const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
      input: { model: 'google/veo-3.0-fast', prompt: 'nothing to see' },
    });
    gw.simulator.control.forceOutcome(g.upstreamId!, 'completed_without_url');
    const last = (await follow(gw, key, g.id, clients)).at(-1)!;
    expect(last.status).toBe('FAILED');
    expect(last.video).toBeNull();
    expect(last.error!.code).toBe('NO_VIDEO');
    expect(last.error!.message).toEqual(expect.any(String));
    expect(last.upstreamStatus).toBe('completed');
  });

  describe('cancel', () => {
    it('should end CANCELLED, stop polling upstream, and return it unchanged when cancelled again', async () => {
      const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'google/veo3', prompt: 'never mind' },
      });
      gw.simulator.control.forceOutcome(g.upstreamId!, 'pending');
      // Let the poller look at it at least once, so "stops" is meaningful.
      await waitFor('a first poll', () => (gw.simulator.control.counts().pollsById[g.upstreamId!] ?? 0) >= 1, 5_000);

      const client = wsClient(gw, key);
      clients.push(client);
      const sub = collect(client, VideoGenerationUpdatedDocument, { id: g.id });
      await waitFor('the snapshot', () => sub.values.length >= 1);

      const { cancelVideoGeneration: cancelled } = await gqlData(gw, key, CancelVideoGenerationDocument, { id: g.id });
      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.error!.code).toBe('CANCELLED_BY_OWNER');
      expect(cancelled.completedAt).toEqual(expect.any(String));
      expect(cancelled.transitions.at(-1)!.status).toBe('CANCELLED');
      expectIncreasingTimes(cancelled.transitions);

      // The watcher sees the cancel and its subscription completes.
      await within('the watcher to complete', sub.done, 5_000);
      expect(sub.errors).toEqual([]);
      expect(sub.values.at(-1)!.videoGenerationUpdated).toEqual(cancelled);

      // A poll already in flight may land; after that, nothing more.
      await sleep(100);
      const pollsAfterCancel = gw.simulator.control.counts().pollsById[g.upstreamId!] ?? 0;
      await sleep(800); // many poll intervals at this time scale (the poll gap is 20–300 ms)
      expect(gw.simulator.control.counts().pollsById[g.upstreamId!] ?? 0).toBe(pollsAfterCancel);

      const { cancelVideoGeneration: again } = await gqlData(gw, key, CancelVideoGenerationDocument, { id: g.id });
      expect(again).toEqual(cancelled);
      const { videoGeneration } = await gqlData(gw, key, VideoGenerationDocument, { id: g.id });
      expect(videoGeneration).toEqual(cancelled);
    });

    it('should return a completed generation unchanged when it is cancelled', async () => {
      const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
        input: { model: 'veo-3.1-lite-generate-001', prompt: 'done already' },
      });
      gw.simulator.control.forceOutcome(g.upstreamId!, 'completed');
      const last = (await follow(gw, key, g.id, clients)).at(-1)!;
      expect(last.status).toBe('COMPLETED');
      const { cancelVideoGeneration: after } = await gqlData(gw, key, CancelVideoGenerationDocument, { id: g.id });
      expect(after).toEqual({ ...last, progress: 1, etaSeconds: 0 });
    });

    it("should answer NOT_FOUND when cancelling another owner's generation", async () => {
      const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, { input: { model: 'veo2', prompt: 'mine' } });
      const mallory = await gw.keyFor('mallory');
      const res = await gql(gw, mallory, CancelVideoGenerationDocument, { id: g.id });
      expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const { videoGeneration } = await gqlData(gw, key, VideoGenerationDocument, { id: g.id });
      expect(videoGeneration!.status).not.toBe('CANCELLED');
    });
  });

  describe('listing', () => {
    let listKey: string;
    /** Oldest first. */
    const created: Array<{ id: string; model: string; status: string }> = [];

    beforeAll(async () => {
      listKey = await gw.keyFor('lister');
      const plan = [
        { model: 'veo2', end: 'error' },
        { model: 'google/veo3', end: 'pending' },
        { model: 'veo2', end: 'cancel' },
        { model: 'google/veo-3.0-fast', end: 'pending' },
        { model: 'veo2', end: 'pending' },
      ] as const;
      for (const [i, step] of plan.entries()) {
        const { createVideoGeneration: g } = await gqlData(gw, listKey, CreateVideoGenerationDocument, {
          input: { model: step.model, prompt: `list ${i}` },
        });
        if (step.end === 'cancel') await gqlData(gw, listKey, CancelVideoGenerationDocument, { id: g.id });
        else gw.simulator.control.forceOutcome(g.upstreamId!, step.end);
        created.push({ id: g.id, model: step.model, status: step.end === 'error' ? 'FAILED' : step.end === 'cancel' ? 'CANCELLED' : 'GENERATING' });
        await sleep(5); // distinct creation times
      }
      await waitFor('the list fixtures to settle', async () => {
        const all = await Promise.all(created.map(({ id }) => gqlData(gw, listKey, VideoGenerationDocument, { id })));
        return all.every((r, i) => r.videoGeneration?.status === created[i]!.status);
      });
    });

    it('should list only my generations, newest first', async () => {
      const { videoGenerations: page } = await gqlData(gw, listKey, LIST, { first: 20 });
      expect(page.nodes.map((n: { id: string }) => n.id)).toEqual(created.map((c) => c.id).reverse());
      expect(page.pageInfo.hasNextPage).toBe(false);
      const times = page.nodes.map((n: { createdAt: string }) => Date.parse(n.createdAt));
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThan(times[i - 1]);
    });

    it('should page through every generation with cursors, without gaps or repeats', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      const pages: number[] = [];
      for (let i = 0; i < 10; i++) {
        const { videoGenerations: page }: any = await gqlData(gw, listKey, LIST, { first: 2, after });
        expect(page.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(page.nodes.map((n: { id: string }) => n.id));
        seen.push(...page.nodes.map((n: { id: string }) => n.id));
        pages.push(page.nodes.length);
        if (!page.pageInfo.hasNextPage) break;
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
        after = page.pageInfo.endCursor;
      }
      expect(pages).toEqual([2, 2, 1]);
      expect(seen).toEqual(created.map((c) => c.id).reverse());
    });

    it('should filter by status', async () => {
      const { videoGenerations: generating } = await gqlData(gw, listKey, LIST, { filter: { status: ['GENERATING'] } });
      expect(generating.nodes.map((n: { id: string }) => n.id)).toEqual(
        created
          .filter((c) => c.status === 'GENERATING')
          .map((c) => c.id)
          .reverse(),
      );
      const { videoGenerations: ended } = await gqlData(gw, listKey, LIST, { filter: { status: ['FAILED', 'CANCELLED'] } });
      expect(ended.nodes.map((n: { id: string; status: string }) => [n.id, n.status])).toEqual([
        [created[2]!.id, 'CANCELLED'],
        [created[0]!.id, 'FAILED'],
      ]);
      const { videoGenerations: none } = await gqlData(gw, listKey, LIST, { filter: { status: ['COMPLETED'] } });
      expect(none.nodes).toEqual([]);
      expect(none.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    });

    it('should filter by model, and by model and status together, with paging', async () => {
      const { videoGenerations: veo2 } = await gqlData(gw, listKey, LIST, { filter: { model: ['veo2'] } });
      expect(veo2.nodes.map((n: { id: string }) => n.id)).toEqual(
        created
          .filter((c) => c.model === 'veo2')
          .map((c) => c.id)
          .reverse(),
      );
      expect(veo2.nodes.every((n: { model: string }) => n.model === 'veo2')).toBe(true);

      const { videoGenerations: both } = await gqlData(gw, listKey, LIST, {
        filter: { model: ['veo2', 'google/veo3'], status: ['GENERATING'] },
      });
      expect(both.nodes.map((n: { id: string }) => n.id)).toEqual([created[4]!.id, created[1]!.id]);

      const { videoGenerations: first } = await gqlData(gw, listKey, LIST, { first: 1, filter: { model: ['veo2'] } });
      expect(first.nodes.map((n: { id: string }) => n.id)).toEqual([created[4]!.id]);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const { videoGenerations: rest } = await gqlData(gw, listKey, LIST, {
        first: 5,
        after: first.pageInfo.endCursor,
        filter: { model: ['veo2'] },
      });
      expect(rest.nodes.map((n: { id: string }) => n.id)).toEqual([created[2]!.id, created[0]!.id]);
      expect(rest.pageInfo.hasNextPage).toBe(false);
    });

    it('should reject a malformed cursor with BAD_USER_INPUT', async () => {
      const res = await gql(gw, listKey, LIST, { first: 2, after: 'not-a-cursor' });
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
});

describe('generation lifecycle with an unknown upstream status', () => {
  let gw: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    // 300 s at time scale 0.01: the deadline passes 3 s after creation, long enough for the first
    // poll (which must see 'mystery' before the deadline) even on a loaded machine; at 0.6 s it was not.
    gw = await startGateway({ env: { GENERATION_DEADLINE_SECONDS: '300' } });
  }, 120_000); // a cold embedded store on a loaded machine

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await gw?.stop();
  });

  it('should record the raw status, keep the gateway status, and end TIMED_OUT at the deadline', async () => {
    const key = await gw.keyFor('alice');
    const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
      input: { model: 'google/veo3', prompt: 'what is this' },
    });
    gw.simulator.control.forceOutcome(g.upstreamId!, { status: 'mystery' });
    const deadline = Date.parse(g.deadlineAt);
    expect(deadline - Date.parse(g.createdAt)).toBe(3_000);

    const updates = await follow(gw, key, g.id, clients, 20_000);
    const mystery = updates.find((u) => u.upstreamStatus === 'mystery' && u.status !== 'TIMED_OUT');
    expect(mystery).toBeDefined();
    expect(mystery!.status).toBe('QUEUED');
    expect(mystery!.transitions.map((t: { status: string }) => t.status)).toEqual(['QUEUED']);

    const last = updates.at(-1)!;
    expect(last.status).toBe('TIMED_OUT');
    expect(last.upstreamStatus).toBe('mystery');
    expect(last.error!.code).toBe('DEADLINE_EXCEEDED');
    expect(last.video).toBeNull();
    expect(last.progress).toBeNull();
    expect(Date.parse(last.completedAt!)).toBeGreaterThanOrEqual(deadline);
    expect(last.transitions.map((t: { status: string }) => t.status)).toEqual(['QUEUED', 'TIMED_OUT']);

    // Logged once, however many polls saw it; and no more polls after the end.
    const warnings = gw.logs.filter((l) => l.includes('unknown upstream status') && l.includes(g.id));
    expect(warnings).toHaveLength(1);
    const polls = gw.simulator.control.counts().pollsById[g.upstreamId!] ?? 0;
    expect(polls).toBeGreaterThanOrEqual(1);
    await sleep(400);
    expect(gw.simulator.control.counts().pollsById[g.upstreamId!] ?? 0).toBe(polls);
  });
});
