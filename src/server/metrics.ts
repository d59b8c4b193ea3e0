/**
 * Prometheus metrics, served at `/metrics`. One registry per app, so tests can run several apps
 * in one process without their counters mixing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WebSocketServer } from 'ws';
import type { PollOutcome } from '../generations/poller';
import { QUOTA_KINDS, type QuotaKind } from '../quotas/owner-quotas';
import type { GenerationStatistics } from '../store/store';
import type { UpstreamCircuitState } from '../upstream/health/circuit-breaker';
import type { UpstreamEndpoint } from '../upstream/types';
import type { MetricsAccess } from '../config';
import { WEBHOOK_ATTEMPT_OUTCOMES, type WebhookAttemptOutcome } from '../webhooks/sender';

export type { MetricsAccess };

/** The answer to a scrape with this `Authorization` header: 200 (serve), 401 (wrong or no token) or 403 (refused). */
export function metricsScrapeStatus(access: MetricsAccess, authorization: string | undefined): 200 | 401 | 403 {
  if (access === 'open') return 200;
  if (access === 'refused') return 403;
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!presented) return 401;
  // Compared as digests: equal lengths for timingSafeEqual, and no timing hint of the token's length.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(access.token)) ? 200 : 401;
}

const CIRCUIT_STATES: readonly UpstreamCircuitState[] = ['closed', 'open', 'half-open'];

export class Metrics {
  readonly registry = new Registry();

  private readonly upstreamCalls = new Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Upstream HTTP calls by endpoint and outcome (HTTP status, or timeout/network/unreadable).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly upstreamLatency = new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Upstream HTTP call latency.',
    labelNames: ['endpoint'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly polls = new Counter({
    name: 'gateway_polls_total',
    help: 'Status polls by the poller, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: 'gateway_websocket_connections',
    help: 'Open WebSocket connections.',
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({
    name: 'gateway_subscriptions',
    help: 'Active GraphQL subscriptions.',
    registers: [this.registry],
  });
  private readonly quotaRefusals = new Counter({
    name: 'gateway_quota_refusals_total',
    help: 'Operations refused for a per-owner quota, by quota (creates_per_minute, in_flight, requests_per_second).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  /** Connections the gateway closed itself: `over_capacity` (shed above MAX_CONNECTIONS), `write_timeout`, `unsent_bytes`. */
  readonly connectionsDropped = new Counter({
    name: 'gateway_connections_dropped_total',
    help: 'Connections closed by the gateway to protect itself, by reason (over_capacity, write_timeout, unsent_bytes).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Operations refused for the per-address budget of clients without a valid credential. */
  readonly anonymousRefusals = new Counter({
    name: 'gateway_anonymous_refusals_total',
    help: 'Operations without a valid credential refused for the per-address rate limit (ANONYMOUS_REQUESTS_PER_MINUTE).',
    registers: [this.registry],
  });

  private readonly webhookAttempts = new Counter({
    name: 'gateway_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (delivered: 2xx; retry: failed, another attempt scheduled; failed: given up; gone: 410, endpoint disabled).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(store: Pick<GenerationStatistics, 'countByStatus'>) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'gateway_generations',
      help: 'Stored generations by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [status, count] of Object.entries(await store.countByStatus())) this.set({ status }, count);
      },
    });
    // Every kind from the start, so a rate() over it has a zero to begin from.
    for (const kind of QUOTA_KINDS) this.quotaRefusals.inc({ kind }, 0);
    for (const outcome of WEBHOOK_ATTEMPT_OUTCOMES) this.webhookAttempts.inc({ outcome }, 0);
  }

  /** Reports, at each scrape, the pending webhook deliveries (across instances) and the oldest one's age. */
  watchWebhookOutbox(outbox: { pendingWebhookDeliveries(): Promise<{ count: number; oldestCreatedAt: Date | null }> }): void {
    // One store query per scrape serves both gauges.
    let pending: Promise<{ count: number; oldestCreatedAt: Date | null }> | null = null;
    const read = () => (pending ??= outbox.pendingWebhookDeliveries().finally(() => setImmediate(() => (pending = null))));
    new Gauge({
      name: 'gateway_webhook_queue_depth',
      help: 'Webhook deliveries waiting for a (next) attempt.',
      registers: [this.registry],
      async collect() {
        this.set((await read()).count);
      },
    });
    new Gauge({
      name: 'gateway_webhook_oldest_pending_seconds',
      help: 'Age of the oldest pending webhook delivery, in seconds; 0 when none is pending.',
      registers: [this.registry],
      async collect() {
        const { oldestCreatedAt } = await read();
        this.set(oldestCreatedAt ? Math.max(0, (Date.now() - oldestCreatedAt.getTime()) / 1000) : 0);
      },
    });
  }

  webhookAttempt = (outcome: WebhookAttemptOutcome): void => {
    this.webhookAttempts.inc({ outcome });
  };

  /** Reports the breaker's state at each scrape: 1 for the current state, 0 for the others. */
  watchCircuit(circuit: { readonly state: UpstreamCircuitState }): void {
    new Gauge({
      name: 'gateway_upstream_circuit_state',
      help: 'State of the circuit breaker around upstream calls: 1 for the current state (closed, open, half-open), 0 for the others.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const current = circuit.state;
        for (const state of CIRCUIT_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
  }

  /** Reports, at each scrape, the bytes every open WebSocket has waiting to be written. */
  watchWebSockets(wss: WebSocketServer): void {
    new Gauge({
      name: 'gateway_websocket_buffered_bytes',
      help: 'Bytes waiting to be written to WebSocket clients, summed over open sockets (each is capped by WS_MAX_BUFFERED_BYTES).',
      registers: [this.registry],
      collect() {
        let bytes = 0;
        for (const socket of wss.clients) bytes += socket.bufferedAmount;
        this.set(bytes);
      },
    });
  }

  quotaRefused = (kind: QuotaKind): void => {
    this.quotaRefusals.inc({ kind });
  };

  upstreamCall = (endpoint: UpstreamEndpoint, outcome: string, seconds: number): void => {
    this.upstreamCalls.inc({ endpoint, outcome });
    this.upstreamLatency.observe({ endpoint }, seconds);
  };

  poll = (outcome: PollOutcome): void => {
    this.polls.inc({ result: outcome });
  };
}
