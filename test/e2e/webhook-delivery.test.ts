/**
 * The webhook sender against real receivers on 127.0.0.1 that verify every request with the
 * standardwebhooks library: signed events for every status, retries through an outage with one
 * `webhook-id` per event, 410 disables, redirects are not followed, a hanging receiver does not
 * hold up another, and both signatures during a secret rotation.
 */
import { CREATE, GET, gql, gqlData, useGateway, waitFor } from '../helpers/gateway';
import { Receiver } from '../helpers/webhook-receiver';

const CANCEL = `mutation Cancel($id: ID!) { cancelVideoGeneration(id: $id) { id status } }`;
const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;
const ENDPOINT = `query E($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason } }`;
const ROTATE = `mutation R($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret } }`;
const DELIVERIES = `query W($endpointId: ID) { webhookDeliveries(endpointId: $endpointId) {
  id messageId eventType status attempts lastStatusCode lastError lastResponseExcerpt lastDurationMs nextAttemptAt deliveredAt generationVersion
} }`;

describe('webhook delivery', () => {
  const gw = useGateway({
    env: {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '700',
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.1,0.2,0.2,0.2,0.2,0.2,0.2,0.2',
      WEBHOOK_POLL_INTERVAL_MS: '50',
    },
  });
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });

  async function setUp(owner: string, events?: string[]) {
    const receiver = new Receiver();
    receivers.push(receiver);
    const url = await receiver.start();
    const key = await gw.keyFor(owner);
    const { secret, endpoint } = (await gqlData(gw, key, CREATE_ENDPOINT, { input: { url, events } })).createWebhookEndpoint;
    return { receiver, key, secret: secret as string, endpointId: endpoint.id as string };
  }

  async function generate(key: string, prompt: string) {
    const created = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt } })).createVideoGeneration;
    return waitFor(
      'the generation to complete',
      async () => {
        const g = (await gqlData(gw, key, GET, { id: created.id })).videoGeneration;
        return g.status === 'COMPLETED' && g;
      },
      20_000,
      100,
    );
  }

  it('should deliver every status change, signed, verifiable with the library', async () => {
    const { receiver, key, secret, endpointId } = await setUp('signed-owner');
    const done = await generate(key, 'a paper boat');
    const statuses: string[] = done.transitions.map((t: { status: string }) => t.status);
    await waitFor('every event', () => receiver.received.length >= statuses.length, 10_000);
    const events = receiver.verified(secret);
    expect(events.map((e) => e.type)).toEqual(statuses.map((s) => `generation.${s.toLowerCase()}`));
    const completed = events.at(-1)!;
    expect(completed.data).toEqual({
      id: done.id,
      status: 'COMPLETED',
      version: done.version,
      model: 'google/veo-3.0-fast',
      video: done.video,
      error: null,
      usage: done.usage,
    });
    expect(completed.id).toBe(`msg_${done.id}_${done.version}`);
    // Another secret does not verify: the signature is real.
    expect(() => receiver.verified('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow();
    await waitFor('the deliveries to be recorded', async () => {
      const ds = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
      return ds.length === statuses.length && ds.every((d: any) => d.status === 'DELIVERED') && ds;
    });
    const [last] = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
    expect(last).toMatchObject({
      status: 'DELIVERED',
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      lastResponseExcerpt: 'answer 200',
      nextAttemptAt: null,
    });
    expect(last.deliveredAt).not.toBeNull();
  }, 40_000);

  it('should retry through an outage and deliver each event once per webhook-id, in version order', async () => {
    const { receiver, key, secret, endpointId } = await setUp('outage-owner');
    // Down (503, then refused by a 500) for the first five requests, then up.
    receiver.answer = (_req, index) => (index < 3 ? 503 : index < 5 ? 500 : 200);
    const done = await generate(key, 'a windmill in a storm');
    const statuses: string[] = done.transitions.map((t: { status: string }) => t.status);
    await waitFor(
      'every event delivered',
      async () => {
        const ds = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
        return ds.length === statuses.length && ds.every((d: any) => d.status === 'DELIVERED') && ds;
      },
      20_000,
      100,
    );
    const events = receiver.verified(secret);
    expect(events.length).toBeGreaterThan(statuses.length); // retries happened
    const firstById = new Map<string, (typeof events)[number]>();
    for (const e of events) if (!firstById.has(e.id)) firstById.set(e.id, e);
    const accepted = receiver.received.flatMap((r, i) => (i >= 5 ? [r.headers['webhook-id']] : []));
    // After de-duplication: one of each event, and each was accepted (answered 200) exactly once.
    expect([...firstById.values()].map((e) => e.type).sort()).toEqual(statuses.map((s) => `generation.${s.toLowerCase()}`).sort());
    expect(accepted.sort()).toEqual([...firstById.keys()].sort());
    const byVersion = [...firstById.values()].sort((a, b) => a.data.version - b.data.version).map((e) => e.type);
    expect(byVersion).toEqual(statuses.map((s) => `generation.${s.toLowerCase()}`));
    const retried = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries.filter((d: any) => d.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    // The failures are in the logs, one line per failed attempt.
    expect(gw.logs.filter((l) => l.includes('webhook attempt failed; will retry') && l.includes(endpointId)).length).toBe(5);
  }, 40_000);

  it('should disable an endpoint that answers 410 Gone, and say why', async () => {
    const { receiver, key, endpointId } = await setUp('gone-owner', ['GENERATION_COMPLETED']);
    receiver.answer = () => 410;
    await generate(key, 'a closed shop');
    const endpoint = await waitFor('the endpoint to be disabled', async () => {
      const e = (await gqlData(gw, key, ENDPOINT, { id: endpointId })).webhookEndpoint;
      return !e.enabled && e;
    });
    expect(endpoint.disabledReason).toMatch(/^Answered 410 Gone at /);
    const [delivery] = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
    expect(delivery).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 410, nextAttemptAt: null });
    expect(receiver.received).toHaveLength(1);
  }, 40_000);

  it('should give up after the retry schedule, and send once more on redeliverWebhook', async () => {
    const { receiver, key, secret, endpointId } = await setUp('redeliver-owner', ['GENERATION_COMPLETED']);
    let up = false;
    receiver.answer = () => (up ? 200 : 500);
    await generate(key, 'a message in a bottle');
    const [failed] = await waitFor(
      'the delivery to fail',
      async () => {
        const ds = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
        return ds[0]?.status === 'FAILED' && ds;
      },
      15_000,
      100,
    );
    // One attempt, then one per wait of WEBHOOK_RETRY_SCHEDULE_SECONDS (8 of them).
    expect(failed).toMatchObject({ attempts: 9, lastStatusCode: 500, nextAttemptAt: null });
    expect(gw.logs.filter((l) => l.includes('webhook delivery failed; giving up') && l.includes(endpointId))).toHaveLength(1);
    up = true;
    const redelivered = (await gqlData(gw, key, `mutation R($id: ID!) { redeliverWebhook(id: $id) { id status } }`, { id: failed.id }))
      .redeliverWebhook;
    expect(redelivered).toEqual({ id: failed.id, status: 'PENDING' });
    const [delivered] = await waitFor('the redelivery', async () => {
      const ds = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
      return ds[0]?.status === 'DELIVERED' && ds;
    });
    expect(delivered).toMatchObject({ attempts: 10, lastStatusCode: 200 });
    const ids = new Set(receiver.verified(secret).map((e) => e.id));
    expect([...ids]).toEqual([failed.messageId]);
    // The attempts are counted by outcome, and the outbox's depth and age are gauges.
    const metrics = await (await fetch(new URL('/metrics', gw.app.url))).text();
    const count = (outcome: string) => Number(new RegExp(`^gateway_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(count('failed')).toBeGreaterThanOrEqual(1);
    expect(count('retry')).toBeGreaterThanOrEqual(8);
    expect(count('delivered')).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^gateway_webhook_queue_depth \d+$/m);
    expect(metrics).toMatch(/^gateway_webhook_oldest_pending_seconds [\d.e+-]+$/m);
    const unknown = await gql(gw, key, `mutation R($id: ID!) { redeliverWebhook(id: $id) { id } }`, { id: 'whd_unknown' });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  }, 40_000);

  it('should not follow redirects', async () => {
    const { receiver, key, endpointId } = await setUp('redirect-owner', ['GENERATION_COMPLETED']);
    receiver.answer = (req) => (req.path === '/hook' ? 307 : 200);
    await generate(key, 'a detour');
    const [delivery] = await waitFor('a failed attempt', async () => {
      const ds = (await gqlData(gw, key, DELIVERIES, { endpointId })).webhookDeliveries;
      return ds[0]?.attempts >= 1 && ds;
    });
    expect(delivery).toMatchObject({ lastStatusCode: 307, lastError: 'Redirects are not followed (answered 307)' });
    expect(receiver.received.filter((r) => r.path === '/redirected')).toEqual([]);
  }, 40_000);

  it('should give up on a receiver that does not answer within WEBHOOK_TIMEOUT_MS, and say so', async () => {
    const hanging = await setUp('hanging-owner', ['GENERATION_COMPLETED']);
    hanging.receiver.answer = () => 'hang';
    await generate(hanging.key, 'a stuck clock');
    const [hung] = await waitFor('the hanging attempt to time out', async () => {
      const ds = (await gqlData(gw, hanging.key, DELIVERIES, { endpointId: hanging.endpointId })).webhookDeliveries;
      return ds[0]?.lastError && ds;
    });
    expect(hung.lastError).toBe('No answer within 700 ms');
    expect(hung.lastStatusCode).toBeNull();
  }, 40_000);

  it('should sign with both secrets during a rotation grace period', async () => {
    const { receiver, key, secret: oldSecret, endpointId } = await setUp('rotating-owner', ['GENERATION_COMPLETED']);
    const newSecret = (await gqlData(gw, key, ROTATE, { id: endpointId })).rotateWebhookEndpointSecret.secret;
    await generate(key, 'a changing of the guard');
    await waitFor('the event', () => receiver.received.length > 0);
    expect(receiver.received[0]!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(receiver.verified(newSecret).map((e) => e.type)).toEqual(['generation.completed']);
    expect(receiver.verified(oldSecret).map((e) => e.type)).toEqual(['generation.completed']);
  }, 40_000);

  const ROTATE_SIGNING = `mutation { rotateWebhookSigningSecret { secret previousSecretExpiresAt } }`;
  const GENERATION_DELIVERIES = `query W($generationId: ID) { webhookDeliveries(generationId: $generationId) {
    messageId endpointId eventType status attempts lastStatusCode generationVersion
  } }`;

  it('should refuse a per-generation webhook until the owner has a signing secret, creating nothing', async () => {
    const key = await gw.keyFor('no-signing-secret-owner');
    const res = await gql(gw, key, CREATE, {
      input: { model: 'google/veo-3.0-fast', prompt: 'an unsigned call', webhook: { url: 'http://127.0.0.1:9/hook' } },
    });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.webhook' });
    expect(res.body.errors?.[0]?.message).toMatch(/rotateWebhookSigningSecret/);
    expect((await gqlData(gw, key, `query { videoGenerations(first: 5) { nodes { id } } }`)).videoGenerations.nodes).toEqual([]);
  });

  it('should send a per-generation webhook, signed with the owner secret, beside the endpoints, visible by generation', async () => {
    const { receiver: endpointReceiver, key } = await setUp('per-generation-owner', ['GENERATION_COMPLETED']);
    const own = new Receiver();
    receivers.push(own);
    const url = await own.start();
    const first = (await gqlData(gw, key, ROTATE_SIGNING)).rotateWebhookSigningSecret;
    expect(first.secret).toMatch(/^whsec_/);
    expect(first.previousSecretExpiresAt).toBeNull();
    const created = (
      await gqlData(gw, key, CREATE, {
        input: {
          model: 'google/veo-3.0-fast',
          prompt: 'a message in a bottle',
          webhook: { url, events: ['GENERATION_GENERATING', 'GENERATION_COMPLETED'] },
        },
      })
    ).createVideoGeneration;
    // Rotated after the create: the deliveries carry both signatures during the grace period.
    const second = (await gqlData(gw, key, ROTATE_SIGNING)).rotateWebhookSigningSecret;
    expect(second.previousSecretExpiresAt).not.toBeNull();
    await waitFor('both events at the generation webhook', () => own.received.length >= 2, 20_000);
    const events = own.verified(second.secret);
    expect(own.verified(first.secret).map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(events.map((e) => [e.type, e.data.id])).toEqual([
      ['generation.generating', created.id],
      ['generation.completed', created.id],
    ]);
    await waitFor('the endpoint event', () => endpointReceiver.received.length >= 1, 10_000);
    // One event, one webhook-id, whichever of the owner's webhooks it went to.
    expect(endpointReceiver.received[0]!.headers['webhook-id']).toBe(events[1]!.id);
    const deliveries = await waitFor('both per-generation deliveries delivered', async () => {
      const ds = (await gqlData(gw, key, GENERATION_DELIVERIES, { generationId: created.id })).webhookDeliveries;
      return ds.filter((d: any) => d.endpointId === null && d.status === 'DELIVERED').length === 2 && ds;
    });
    expect(
      deliveries
        .filter((d: any) => d.endpointId === null)
        .map((d: any) => d.eventType)
        .sort(),
    ).toEqual(['GENERATION_COMPLETED', 'GENERATION_GENERATING']);
    // Another owner sees none of them.
    const stranger = await gw.keyFor('stranger-owner');
    expect((await gqlData(gw, stranger, GENERATION_DELIVERIES, { generationId: created.id })).webhookDeliveries).toEqual([]);
  }, 40_000);
});

describe('an endpoint failing for too long (WEBHOOK_DISABLE_AFTER_FAILING_SECONDS)', () => {
  const gw = useGateway({
    env: {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      WEBHOOK_DISABLE_AFTER_FAILING_SECONDS: '1',
    },
  });
  const receiver = new Receiver();
  afterAll(() => receiver.stop());

  it('should be disabled, saying since when it failed', async () => {
    const url = await receiver.start();
    receiver.answer = () => 500;
    const key = await gw.keyFor('failing-owner');
    const { endpoint } = (await gqlData(gw, key, CREATE_ENDPOINT, { input: { url, events: ['GENERATION_COMPLETED'] } })).createWebhookEndpoint;
    await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'an unanswered call' } });
    const disabled = await waitFor(
      'the endpoint to be disabled',
      async () => {
        const e = (
          await gqlData(gw, key, `query E($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason failingSince } }`, { id: endpoint.id })
        ).webhookEndpoint;
        return !e.enabled && e;
      },
      20_000,
      100,
    );
    expect(disabled.disabledReason).toBe(`Failing since ${disabled.failingSince} with no successful delivery (more than 1 s)`);
    const attempts = receiver.received.length;
    expect(attempts).toBeGreaterThanOrEqual(4); // about 1 s of 0.3 s waits
    const [delivery] = await waitFor('the delivery to fail', async () => {
      const ds = (await gqlData(gw, key, DELIVERIES, { endpointId: endpoint.id })).webhookDeliveries;
      return ds[0]?.status === 'FAILED' && ds;
    });
    expect(delivery.lastError).toMatch(/^The endpoint is disabled: Failing since/);
    expect(receiver.received).toHaveLength(attempts);
  }, 40_000);
});

describe('webhook events for every way a generation ends', () => {
  // 60 s at the harness's time scale: a generation the upstream never finishes times out 0.6 s after creation.
  const env = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' };
  const gw = useGateway({ env });
  const short = useGateway({ env: { ...env, GENERATION_DEADLINE_SECONDS: '60' } });
  // One receiver per owner: each checks every request it gets against its owner's secret.
  const receivers = [new Receiver(), new Receiver()];
  afterAll(() => Promise.all(receivers.map((r) => r.stop())));

  it('should deliver generation.failed, generation.cancelled and generation.timed_out, each signed and verified', async () => {
    const subscribe = async (gateway: typeof gw, owner: string, receiver: Receiver) => {
      const url = await receiver.start();
      const key = await gateway.keyFor(owner);
      const { secret } = (await gqlData(gateway, key, CREATE_ENDPOINT, { input: { url } })).createWebhookEndpoint;
      return { key, secret: secret as string, receiver };
    };
    const create = async (gateway: typeof gw, key: string, prompt: string) =>
      (await gqlData(gateway, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt } })).createVideoGeneration;

    const ending = await subscribe(gw, 'ending-owner', receivers[0]!);
    const failing = await create(gw, ending.key, 'a scene the upstream refuses');
    gw.simulator.control.forceOutcome(failing.upstreamId, 'error');
    const cancelled = await create(gw, ending.key, 'a scene called off');
    await gqlData(gw, ending.key, CANCEL, { id: cancelled.id });
    const late = await subscribe(short, 'late-owner', receivers[1]!);
    const stuck = await create(short, late.key, 'a scene that never ends');
    short.simulator.control.forceOutcome(stuck.upstreamId, { status: 'mystery' });

    const last = (to: { receiver: Receiver; secret: string }, id: string, type: string) =>
      to.receiver.verified(to.secret).find((e) => e.data.id === id && e.type === type);
    await waitFor(
      'the three endings to arrive',
      () =>
        last(ending, failing.id, 'generation.failed') &&
        last(ending, cancelled.id, 'generation.cancelled') &&
        last(late, stuck.id, 'generation.timed_out'),
      30_000,
      100,
    );
    expect(last(ending, failing.id, 'generation.failed')!.data).toMatchObject({ status: 'FAILED', video: null, error: { code: expect.any(String) } });
    expect(last(ending, cancelled.id, 'generation.cancelled')!.data).toMatchObject({ status: 'CANCELLED', video: null });
    expect(last(late, stuck.id, 'generation.timed_out')!.data).toMatchObject({ status: 'TIMED_OUT', error: { code: 'DEADLINE_EXCEEDED' } });
  }, 60_000);
});

describe('webhook delivery past a hanging receiver', () => {
  // An attempt's timeout far longer than the test: the hanging receiver holds its first attempt open
  // throughout, so what is checked is the order of events, not how fast they were.
  const gw = useGateway({
    env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '120000', WEBHOOK_POLL_INTERVAL_MS: '50' },
  });
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });

  async function setUp(owner: string) {
    const receiver = new Receiver();
    receivers.push(receiver);
    const url = await receiver.start();
    const key = await gw.keyFor(owner);
    await gqlData(gw, key, CREATE_ENDPOINT, { input: { url, events: ['GENERATION_COMPLETED'] } });
    return { receiver, key };
  }

  async function complete(key: string, prompt: string): Promise<void> {
    const created = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt } })).createVideoGeneration;
    gw.simulator.control.forceOutcome(created.upstreamId, 'completed');
  }

  it('should deliver to another endpoint while a receiver holds its attempt open', async () => {
    const hanging = await setUp('hanging-owner');
    hanging.receiver.answer = () => 'hang';
    const healthy = await setUp('healthy-owner');
    // What the hanging receiver is holding open at the moment the healthy one gets its event: a sender
    // that waited for one attempt before the next would reach it only after the hanging one ended.
    let hangingWhenHealthyReceived: number | null = null;
    healthy.receiver.answer = () => {
      hangingWhenHealthyReceived ??= hanging.receiver.hangingNow();
      return 200;
    };
    await complete(hanging.key, 'a stuck clock');
    await waitFor('the hanging receiver to hold an attempt', () => hanging.receiver.hangingNow() === 1, 20_000, 10);
    await complete(healthy.key, 'a running river');
    await waitFor('the healthy receiver', () => healthy.receiver.received.length > 0, 20_000, 10);
    expect(hangingWhenHealthyReceived).toBe(1);
    expect(hanging.receiver.received).toHaveLength(1);
  }, 60_000);
});
