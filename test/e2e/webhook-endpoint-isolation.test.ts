/**
 * A slow or dead endpoint never delays another endpoint's deliveries: the gateway's own sender and
 * outbox (an embedded PGlite store) against real receivers on 127.0.0.1, one of which never answers,
 * with far more deliveries pending for it than the sender has slots.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { GenerationStatus } from '../../src/model/generation';
import { WebhookDeliveryStatus } from '../../src/model/webhook';
import { createPgliteStore } from '../../src/store/pglite-store';
import type { Store } from '../../src/store/store';
import { WebhookSender } from '../../src/webhooks/sender';
import { waitFor } from '../helpers/gateway';
import { webhookEndpointRecord } from '../helpers/webhook-endpoint-record';
import { Receiver } from '../helpers/webhook-receiver';

const CONCURRENCY = 4;
const MAX_IN_FLIGHT_PER_ENDPOINT = 2;
/** Long enough that no hanging attempt ends while the test looks: the healthy delivery must not wait for one. */
const TIMEOUT_MS = 60_000;

async function addEndpoint(store: Store, owner: string, url: string): Promise<string> {
  const endpoint = webhookEndpointRecord({ owner, url });
  await store.insertWebhookEndpoint(endpoint, 10);
  return endpoint.id;
}

/** A generation of `owner` that completes, queueing one delivery to each of the owner's endpoints. */
async function complete(store: Store, owner: string): Promise<void> {
  const now = new Date();
  const { generation } = await store.insertGeneration({
    id: randomUUID(),
    owner,
    input: { model: 'google/veo-3.0-fast', prompt: 'a stuck clock' },
    inputHash: randomUUID(),
    idempotencyKey: null,
    status: GenerationStatus.QUEUED,
    createdAt: now,
    deadlineAt: new Date(now.getTime() + 3_600_000),
  });
  const video = { url: `https://cdn.example.com/${generation.id}.mp4`, contentType: 'video/mp4', fileName: null, sizeBytes: null };
  await store.updateGeneration({ id: generation.id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, video } });
}

describe('webhook sender: one endpoint per slot budget', () => {
  let store: Store;
  let sender: WebhookSender | null = null;
  const hanging = new Receiver();
  const healthy = new Receiver();

  beforeAll(async () => {
    store = createPgliteStore({});
    await store.start();
  }, 60_000);

  afterAll(async () => {
    // The hanging receiver lets go first, so that the sender's attempts end and it can stop.
    await hanging.stop();
    await healthy.stop();
    await sender?.stop();
    await store.stop();
  });

  it('should deliver to a healthy endpoint while many more deliveries than slots hang at another', async () => {
    hanging.answer = () => 'hang';
    const hangingId = await addEndpoint(store, 'slow-owner', await hanging.start());
    const healthyId = await addEndpoint(store, 'fine-owner', await healthy.start());
    const pendingAtHanging = CONCURRENCY * 5;
    for (let i = 0; i < pendingAtHanging; i++) await complete(store, 'slow-owner');
    // Queued last, so due last: without a per-endpoint cap every slot would go to the hanging endpoint first.
    await complete(store, 'fine-owner');

    sender = new WebhookSender({
      store,
      policy: { allowHttp: true, allowPrivate: true },
      resolve: async () => ['127.0.0.1'],
      timeoutMs: TIMEOUT_MS,
      retryScheduleMs: [300_000],
      concurrency: CONCURRENCY,
      maxInFlightPerEndpoint: MAX_IN_FLIGHT_PER_ENDPOINT,
      pollIntervalMs: 50,
      disableAfterFailingMs: 0,
      instanceId: 'isolation-test',
      log: pino({ level: 'silent' }),
    });
    sender.start();

    await waitFor('the healthy endpoint to be called', () => healthy.received.length === 1, 20_000, 20);
    await waitFor('the delivery to be recorded', async () => {
      const [d] = await store.listWebhookDeliveries({ owner: 'fine-owner', endpointId: healthyId, limit: 10 });
      return d?.status === WebhookDeliveryStatus.DELIVERED;
    });
    // The hanging endpoint holds at most its share of the slots, and none of its attempts has ended:
    // the healthy delivery did not wait for a timeout.
    expect(hanging.received.length).toBeLessThanOrEqual(MAX_IN_FLIGHT_PER_ENDPOINT);
    const atHanging = await store.listWebhookDeliveries({ owner: 'slow-owner', endpointId: hangingId, limit: 100 });
    expect(atHanging).toHaveLength(pendingAtHanging);
    expect(atHanging.filter((d) => d.attempts > 0)).toEqual([]);
  }, 60_000);
});
