/**
 * Sends the webhook outbox: claims due deliveries under a lease (one instance sends each attempt),
 * signs each per Standard Webhooks with the endpoint's secret (and the previous one during a rotation's
 * grace), and records how it went. At least once: an attempt whose outcome could not be recorded is
 * sent again after its lease expires, with the same `webhook-id`.
 *
 * Each attempt runs on its own, bounded by WEBHOOK_TIMEOUT_MS; at most WEBHOOK_CONCURRENCY run at once,
 * and at most WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT to one endpoint (the claim leaves the rest of its
 * deliveries queued): a slow or dead endpoint holds a few slots for at most the timeout each and never
 * delays another endpoint's deliveries, nor the poller (a separate loop).
 */
import { randomUUID } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Agent } from 'undici';
import { playableVideo, type PlayableVideo } from '../generations/playable-video';
import { MediaCopyState } from '../model/generation';
import type { MediaLinks } from '../media/media-links';
import {
  WebhookDeliveryStatus,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookGenerationData,
  type WebhookSigningSecret,
} from '../model/webhook';
import type { Lease, WebhookAttemptRecord, WebhookSendQueue } from '../store/store';
import { parseEndpointUrl, resolvePublicAddresses, type EndpointUrlPolicy, type ResolveHost } from './endpoint-url';

/** How an attempt ended: delivered (2xx), retry (another attempt is scheduled), failed (given up), gone (410). */
export type WebhookAttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gone';
export const WEBHOOK_ATTEMPT_OUTCOMES: readonly WebhookAttemptOutcome[] = ['delivered', 'retry', 'failed', 'gone'];

export interface WebhookSenderOptions {
  store: WebhookSendQueue;
  policy: EndpointUrlPolicy;
  resolve: ResolveHost;
  timeoutMs: number;
  /** Waits between attempts; its length + 1 is the most attempts. */
  retryScheduleMs: readonly number[];
  concurrency: number;
  /** Attempts in flight to one endpoint at once, over all instances (the claim counts every lease). */
  maxInFlightPerEndpoint: number;
  pollIntervalMs: number;
  /** An endpoint failing this long with no success in between is disabled; 0 = never. */
  disableAfterFailingMs: number;
  /** Signs the gateway's links to stored videos; null: no media store, payloads show the upstream's link. */
  mediaLinks?: MediaLinks | null;
  instanceId: string;
  log: Logger;
  /** Called once per attempt (metrics). */
  onAttempt?: (outcome: WebhookAttemptOutcome) => void;
  /** For tests of the jitter; default Math.random. */
  random?: () => number;
}

/** How much of an answer is kept: receivers' error pages are for a glance, not for storage. */
const RESPONSE_EXCERPT_CHARS = 256;
const RESPONSE_READ_BYTES = 1_024;
/** Each wait is varied by up to this fraction either way. */
const JITTER = 0.2;

/** undici's request and the deliveries' connections. */
interface DeliveryClient {
  request: typeof import('undici').request;
  dispatcher: Agent;
}

export class WebhookSender {
  private readonly leaseOwner: string;
  private readonly leaseMs: number;
  /** undici's request and the deliveries' connections, made at the first delivery (see connection). */
  private client: Promise<DeliveryClient> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;

  constructor(private readonly options: WebhookSenderOptions) {
    // Two instances (or two apps in one test process) may share an instance id; leases must not.
    this.leaseOwner = `${options.instanceId}/webhooks/${randomUUID().slice(0, 8)}`;
    // An attempt ends within the timeout; the margin covers recording it.
    this.leaseMs = options.timeoutMs * 2 + 5_000;
  }

  /**
   * undici is loaded at the first delivery, not at start: loading it holds the main thread for 0.1–0.2 s,
   * and most gateways send no webhook for a while after a start, or ever.
   */
  private connection(): Promise<DeliveryClient> {
    const { timeoutMs, policy, resolve } = this.options;
    this.client ??= import('undici').then(({ Agent, request }) => ({
      request,
      dispatcher: new Agent({
        connect: { timeout: timeoutMs, ...(policy.allowPrivate ? {} : { lookup: publicOnlyLookup(resolve) }) },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        keepAliveTimeout: 4_000,
      }),
    }));
    return this.client;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((err: unknown) => this.options.log.error({ err }, 'webhook sender loop crashed'));
  }

  /** Look at the outbox now (something was queued or a slot freed). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakePending = true;
  }

  /** Stops claiming, lets attempts in flight finish (each within the timeout), closes connections. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    if (this.client) await (await this.client).dispatcher.close();
  }

  private async run(): Promise<void> {
    let storeFailing = false;
    while (this.running) {
      const free = this.options.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          claimed = await this.claimAndSend(free);
          if (storeFailing) this.options.log.info('webhook sender reaches the store again');
          storeFailing = false;
        } catch (err) {
          // Logged once per outage, not once per look.
          if (!storeFailing) this.options.log.warn({ err }, 'webhook sender cannot read the outbox; retrying');
          storeFailing = true;
        }
      }
      if (claimed > 0 && claimed === free) continue;
      await this.sleep(this.options.pollIntervalMs);
    }
  }

  private async claimAndSend(limit: number): Promise<number> {
    const { store } = this.options;
    const deliveries = await store.claimWebhookDeliveries(this.leaseOwner, new Date(), this.leaseMs, limit, this.options.maxInFlightPerEndpoint);
    if (deliveries.length === 0) return 0;
    const ids = [...new Set(deliveries.map((d) => d.endpointId).filter((id): id is string => id !== null))];
    const endpoints = new Map((await store.getWebhookEndpointsByIds(ids)).map((e) => [e.id, e]));
    const owners = [...new Set(deliveries.filter((d) => d.endpointId === null).map((d) => d.owner))];
    const signingSecrets = new Map((await store.getWebhookSigningSecrets(owners)).map((s) => [s.owner, s]));
    for (const delivery of deliveries) {
      const target = delivery.endpointId ? endpoints.get(delivery.endpointId) : generationTarget(delivery, signingSecrets.get(delivery.owner));
      const attempt: Promise<void> = this.attempt(delivery, target)
        .catch((err: unknown) => this.options.log.error({ err, deliveryId: delivery.id }, 'webhook attempt failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(attempt);
          this.wake();
        });
      this.inFlight.add(attempt);
    }
    return deliveries.length;
  }

  private async attempt(delivery: WebhookDelivery, endpoint: WebhookTarget | undefined): Promise<void> {
    const lease: Lease = { owner: this.leaseOwner, epoch: delivery.leaseEpoch };
    const at = new Date();
    if (!endpoint || !endpoint.enabled) {
      // Deleted and disabled endpoints receive nothing; the delivery says why it never went.
      const error = endpoint
        ? `The endpoint is disabled: ${endpoint.disabledReason ?? 'no reason given'}`
        : delivery.endpointId
          ? 'The endpoint was deleted'
          : 'No webhook signing secret to sign it with';
      await this.record(delivery, lease, endpoint, {
        at,
        status: WebhookDeliveryStatus.FAILED,
        statusCode: null,
        error,
        responseExcerpt: null,
        durationMs: 0,
        deliveredAt: null,
        nextAttemptAt: null,
      });
      return;
    }
    const outcome = await this.send(delivery, endpoint, at);
    const durationMs = Date.now() - at.getTime();
    const base = { at, statusCode: outcome.statusCode, responseExcerpt: outcome.excerpt, durationMs };
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    // A per-generation webhook has no endpoint to disable: its deliveries just end.
    if (endpoint.id) await this.trackHealth(endpoint.id, ok, at);
    if (ok) {
      await this.record(delivery, lease, endpoint, {
        ...base,
        status: WebhookDeliveryStatus.DELIVERED,
        error: null,
        deliveredAt: new Date(),
        nextAttemptAt: null,
      });
      return;
    }
    if (outcome.statusCode === 410) {
      // Gone: the receiver asks not to be called again (Standard Webhooks' and Svix's convention).
      const reason = `Answered 410 Gone at ${at.toISOString()}`;
      if (endpoint.id) await this.options.store.disableWebhookEndpoint(endpoint.id, reason, at);
      await this.record(delivery, lease, endpoint, {
        ...base,
        status: WebhookDeliveryStatus.FAILED,
        error: reason,
        deliveredAt: null,
        nextAttemptAt: null,
      });
      return;
    }
    const error = outcome.error ?? `Answered ${outcome.statusCode}`;
    const wait = this.retryDelayMs(delivery.attempts + 1);
    const nextAttemptAt = wait === null ? null : new Date(Date.now() + wait);
    await this.record(delivery, lease, endpoint, {
      ...base,
      status: nextAttemptAt ? WebhookDeliveryStatus.PENDING : WebhookDeliveryStatus.FAILED,
      error,
      deliveredAt: null,
      nextAttemptAt,
    });
  }

  /** Disables an endpoint that has failed for longer than allowed; its pending deliveries then fail as they come up. */
  private async trackHealth(endpointId: string, ok: boolean, at: Date): Promise<void> {
    const failingSince = await this.options.store.recordWebhookEndpointHealth(endpointId, ok, at);
    const limit = this.options.disableAfterFailingMs;
    if (ok || !failingSince || limit === 0 || at.getTime() - failingSince.getTime() < limit) return;
    const reason = `Failing since ${failingSince.toISOString()} with no successful delivery (more than ${limit / 1000} s)`;
    if (await this.options.store.disableWebhookEndpoint(endpointId, reason, at)) {
      this.options.log.warn({ endpointId, failingSince }, 'webhook endpoint disabled: failing for too long');
    }
  }

  /** The wait after the `attempts`-th failed attempt, with jitter; null when no attempt is left. */
  retryDelayMs(attempts: number): number | null {
    const base = this.options.retryScheduleMs[attempts - 1];
    if (base === undefined) return null;
    const random = this.options.random ?? Math.random;
    return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  }

  private async send(
    delivery: WebhookDelivery,
    endpoint: WebhookTarget,
    at: Date,
  ): Promise<{ statusCode: number | null; excerpt: string | null; error: string | null }> {
    let url: URL;
    try {
      // Again at delivery: the policy may have changed since registration. Names are checked as the
      // connection resolves them (publicOnlyLookup), literal addresses here.
      url = parseEndpointUrl('url', endpoint.url, this.options.policy);
    } catch (err) {
      return { statusCode: null, excerpt: null, error: (err as Error).message };
    }
    const payload = JSON.stringify({ type: delivery.eventType, timestamp: delivery.occurredAt.toISOString(), data: this.shown(delivery, at) });
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > at) secrets.push(endpoint.previousSecret);
    const signature = secrets.map((secret) => new Webhook(secret).sign(delivery.messageId, at, payload)).join(' ');
    try {
      const { request, dispatcher } = await this.connection();
      const response = await request(url, {
        method: 'POST',
        dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'veo-graphql-gateway-webhooks',
          'webhook-id': delivery.messageId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: payload,
      });
      const excerpt = await readExcerpt(response.body);
      const { statusCode } = response;
      // undici's request never follows redirects; a 3xx is a failed attempt that says so.
      const error = statusCode >= 300 && statusCode < 400 ? `Redirects are not followed (answered ${statusCode})` : null;
      return { statusCode, excerpt, error };
    } catch (err) {
      return { statusCode: null, excerpt: null, error: describeFailure(err, this.options.timeoutMs) };
    }
  }

  /**
   * The generation as the API shows it: once its copy is STORED, the video's `url` is the gateway's
   * signed link, made at each attempt (one made when the event was queued could have expired by a retry
   * a day later), beside `upstreamUrl`. Before that the stored payload is already what the API shows.
   */
  private shown(
    delivery: WebhookDelivery,
    at: Date,
  ): WebhookGenerationData | (Omit<WebhookGenerationData, 'video'> & { video: PlayableVideo | null }) {
    const { data } = delivery;
    const links = this.options.mediaLinks ?? null;
    if (!links || data.video?.copy?.state !== MediaCopyState.STORED) return data;
    return { ...data, video: playableVideo({ id: delivery.generationId, owner: delivery.owner, video: data.video }, links, at.getTime()) };
  }

  private async record(delivery: WebhookDelivery, lease: Lease, endpoint: WebhookTarget | undefined, attempt: WebhookAttemptRecord): Promise<void> {
    const held = await this.options.store.recordWebhookAttempt(delivery.id, lease, attempt);
    this.options.onAttempt?.(
      attempt.status === WebhookDeliveryStatus.DELIVERED
        ? 'delivered'
        : attempt.status === WebhookDeliveryStatus.PENDING
          ? 'retry'
          : attempt.statusCode === 410
            ? 'gone'
            : 'failed',
    );
    if (attempt.status !== WebhookDeliveryStatus.DELIVERED) {
      this.options.log.warn(
        {
          deliveryId: delivery.id,
          messageId: delivery.messageId,
          endpointId: delivery.endpointId,
          generationId: delivery.generationId,
          attempt: delivery.attempts + 1,
          statusCode: attempt.statusCode,
          error: attempt.error,
          durationMs: attempt.durationMs,
          nextAttemptAt: attempt.nextAttemptAt,
        },
        attempt.status === WebhookDeliveryStatus.FAILED ? 'webhook delivery failed; giving up' : 'webhook attempt failed; will retry',
      );
    }
    // Another sender took the delivery over after this lease expired: it sends again (at least once).
    if (!held) this.options.log.warn({ deliveryId: delivery.id }, 'webhook attempt outlived its lease; it will be sent again');
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakePending || !this.running) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }
}

/**
 * Where an attempt goes and what signs it: an endpoint, or a generation's own webhook (no endpoint id,
 * the URL stored with the delivery, the owner's signing secret).
 */
type WebhookTarget = Pick<WebhookEndpoint, 'url' | 'enabled' | 'disabledReason' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt'> & {
  id: string | null;
};

function generationTarget(delivery: WebhookDelivery, signing: WebhookSigningSecret | undefined): WebhookTarget | undefined {
  if (!signing || !delivery.url) return undefined;
  return {
    id: null,
    url: delivery.url,
    enabled: true,
    disabledReason: null,
    secret: signing.secret,
    previousSecret: signing.previousSecret,
    previousSecretExpiresAt: signing.previousSecretExpiresAt,
  };
}

/** net's `lookup`, refusing names with any private address among their answers (DNS rebinding). */
function publicOnlyLookup(resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    resolvePublicAddresses('url', hostname, resolve).then(
      (addresses) => {
        if (options.all)
          callback(
            null,
            addresses.map((address) => ({ address, family: isIP(address) })),
          );
        else callback(null, addresses[0]!, isIP(addresses[0]!));
      },
      (err: Error) => callback(Object.assign(new Error(err.message), { code: 'EWEBHOOKPRIVATE' }), '', 0),
    );
  };
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_READ_BYTES) break;
  }
  body.destroy();
  const text = Buffer.concat(chunks).subarray(0, RESPONSE_READ_BYTES).toString('utf8').trim();
  return text === '' ? null : text.slice(0, RESPONSE_EXCERPT_CHARS);
}

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (
    e.name === 'TimeoutError' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e.code === 'UND_ERR_BODY_TIMEOUT' ||
    e.code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return `No answer within ${timeoutMs} ms`;
  }
  const code = e.code ?? e.cause?.code;
  const message = e.message ?? e.cause?.message ?? String(err);
  return code ? `${code}: ${message}` : message;
}
