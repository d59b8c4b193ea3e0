/**
 * Webhook delivery (issue 16): deliveries per second and the delay from a generation's state change to
 * the receiver's receipt, with many endpoints of which some are dead, beside a baseline of the same
 * load with every endpoint alive, measured in the same run.
 *
 * The outbox, the lease queue and the sender are the gateway's own (an in-memory embedded store and a
 * WebhookSender, in this process); the state changes go through `updateGeneration`, which queues the
 * deliveries in the same statement, exactly as the poller's do. The receivers are real HTTP servers on
 * 127.0.0.1 in this process. A dead endpoint is a closed port (connection refused), retried on the
 * gateway's schedule; its retries fall after the measurement ends.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { GenerationStatus } from '../src/model/generation';
import { createPgliteStore } from '../src/store/pglite-store';
import type { Store } from '../src/store/store';
import { WebhookSender } from '../src/webhooks/sender';
import { freePort } from '../test/helpers/free-port';
import { webhookEndpointRecord } from '../test/helpers/webhook-endpoint-record';
import { quantile, preciseNow, sleep } from './stats';

export interface WebhookBenchPlan {
  endpoints: number;
  /** Owners the endpoints are spread over; each owner's generation reports to all of its endpoints. */
  owners: number;
  /** Generations per owner; each reports one change (COMPLETED) to every endpoint of its owner. */
  generationsPerOwner: number;
  /** Fraction of endpoints that are dead (0..1). */
  deadFraction: number;
}

export interface WebhookBenchResult {
  delivered: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The sender's settings as shipped (src/config.ts defaults), apart from the idle look interval. */
const SENDER = { timeoutMs: 10_000, concurrency: 16, maxInFlightPerEndpoint: 2, pollIntervalMs: 50, retryScheduleMs: [5_000, 300_000] };

export async function runWebhookDelivery(plan: WebhookBenchPlan): Promise<WebhookBenchResult> {
  const store = createPgliteStore();
  await store.start();
  const delays: number[] = [];
  let received = 0;
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = preciseNow();
      received += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
      delays.push(at - Date.parse(body.timestamp));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // A port that was just free and is closed again: connections to it are refused.
  const deadPort = await freePort();
  const livePort = (receiver.address() as AddressInfo).port;

  const sender = new WebhookSender({
    store,
    policy: { allowHttp: true, allowPrivate: true },
    resolve: async () => ['127.0.0.1'],
    ...SENDER,
    disableAfterFailingMs: 0,
    instanceId: 'bench',
    log: pino({ level: 'silent' }),
  });
  try {
    const perOwner = Math.ceil(plan.endpoints / plan.owners);
    const deadEvery = plan.deadFraction > 0 ? Math.round(1 / plan.deadFraction) : 0;
    let live = 0;
    for (let i = 0; i < plan.endpoints; i++) {
      const dead = deadEvery > 0 && i % deadEvery === deadEvery - 1;
      if (!dead) live += 1;
      await insertEndpoint(store, `owner-${Math.floor(i / perOwner)}`, `http://127.0.0.1:${dead ? deadPort : livePort}/hook/${i}`);
    }
    const generations: string[][] = [];
    for (let o = 0; o < plan.owners; o++) {
      const ids: string[] = [];
      for (let g = 0; g < plan.generationsPerOwner; g++) ids.push(await insertGeneration(store, `owner-${o}`));
      generations.push(ids);
    }
    sender.start();
    const expected = live * plan.generationsPerOwner;
    const started = preciseNow();
    // The state change, as the poller makes it: every generation completes, each queueing a delivery
    // to every endpoint of its owner.
    for (const ids of generations) {
      for (const id of ids) {
        const video = { url: `https://cdn.example.com/${id}.mp4`, contentType: 'video/mp4', fileName: `${id}.mp4`, sizeBytes: 1 };
        await store.updateGeneration({ id, expectedVersion: 1, change: { status: GenerationStatus.COMPLETED, video } });
      }
      sender.wake();
    }
    const deadline = Date.now() + 120_000;
    while (received < expected && Date.now() < deadline) await sleep(20);
    const seconds = (preciseNow() - started) / 1000;
    if (received < expected) throw new Error(`webhook bench: ${received} of ${expected} deliveries arrived within 120 s`);
    return { delivered: received, deliveriesPerSecond: received / seconds, p50Ms: quantile(delays, 0.5), p99Ms: quantile(delays, 0.99) };
  } finally {
    await sender.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await store.stop();
  }
}

async function insertEndpoint(store: Store, owner: string, url: string): Promise<void> {
  await store.insertWebhookEndpoint(webhookEndpointRecord({ owner, url }), 10_000);
}

async function insertGeneration(store: Store, owner: string): Promise<string> {
  const now = new Date();
  const { generation } = await store.insertGeneration({
    id: randomUUID(),
    owner,
    input: { model: 'google/veo-3.0-fast', prompt: 'a benchmark' },
    inputHash: randomUUID(),
    idempotencyKey: null,
    status: GenerationStatus.QUEUED,
    createdAt: now,
    deadlineAt: new Date(now.getTime() + 3_600_000),
  });
  return generation.id;
}
