import type { Generation, GenerationError, GenerationInput, GenerationStatus, GenerationVideo, Usage } from '../../model/generation';
import type {
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEventType,
  WebhookGenerationData,
  WebhookSigningSecret,
} from '../../model/webhook';
import type { ApiKeyRecord } from '../store';
import type { Row } from './session';

/** Decodes a `generations` row (SELECT * or RETURNING *). */
export function toGeneration(row: Row): Generation {
  const transitions = toJson<Array<{ status: GenerationStatus; upstreamStatus: string | null; at: string }>>(row.transitions);
  return {
    id: String(row.id),
    owner: String(row.owner),
    input: toJson<GenerationInput>(row.input),
    inputHash: String(row.input_hash),
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    status: row.status as GenerationStatus,
    upstreamId: (row.upstream_id as string | null) ?? null,
    upstreamStatus: (row.upstream_status as string | null) ?? null,
    video: toJsonOrNull<GenerationVideo>(row.video),
    error: toJsonOrNull<GenerationError>(row.error),
    usage: toJsonOrNull<Usage>(row.usage),
    completedAt: toDateOrNull(row.completed_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    deadlineAt: toDate(row.deadline_at),
    version: Number(row.version),
    transitions: (transitions ?? []).map((t) => ({
      status: t.status,
      upstreamStatus: t.upstreamStatus ?? null,
      at: new Date(t.at),
    })),
    nextPollAt: toDateOrNull(row.next_poll_at),
    pollCount: Number(row.poll_count),
    pollFailures: Number(row.poll_failures),
    leaseOwner: (row.lease_owner as string | null) ?? null,
    leaseUntil: toDateOrNull(row.lease_until),
    leaseEpoch: Number(row.lease_epoch),
  };
}

/** Decodes an `api_keys` row. */
export function toApiKey(row: Row): ApiKeyRecord {
  return {
    id: String(row.id),
    owner: String(row.owner),
    hash: String(row.hash),
    prefix: String(row.prefix),
    label: (row.label as string | null) ?? null,
    createdAt: toDate(row.created_at),
    revokedAt: toDateOrNull(row.revoked_at),
  };
}

/** Decodes a `webhook_endpoints` row. */
export function toWebhookEndpoint(row: Row): WebhookEndpoint {
  return {
    id: String(row.id),
    owner: String(row.owner),
    url: String(row.url),
    description: (row.description as string | null) ?? null,
    events: toJsonOrNull<WebhookEventType[]>(row.events),
    enabled: Boolean(row.enabled),
    disabledReason: (row.disabled_reason as string | null) ?? null,
    secret: String(row.secret),
    previousSecret: (row.previous_secret as string | null) ?? null,
    previousSecretExpiresAt: toDateOrNull(row.previous_secret_expires_at),
    failingSince: toDateOrNull(row.failing_since),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** Decodes a `webhook_signing_secrets` row. */
export function toWebhookSigningSecret(row: Row): WebhookSigningSecret {
  return {
    owner: String(row.owner),
    secret: String(row.secret),
    previousSecret: (row.previous_secret as string | null) ?? null,
    previousSecretExpiresAt: toDateOrNull(row.previous_secret_expires_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** Decodes a `webhook_deliveries` row. */
export function toWebhookDelivery(row: Row): WebhookDelivery {
  return {
    id: String(row.id),
    messageId: String(row.message_id),
    owner: String(row.owner),
    endpointId: (row.endpoint_id as string | null) ?? null,
    url: (row.url as string | null) ?? null,
    generationId: String(row.generation_id),
    generationVersion: Number(row.generation_version),
    eventType: row.event_type as WebhookEventType,
    data: toJson<WebhookGenerationData>(row.data),
    occurredAt: toDate(row.occurred_at),
    createdAt: toDate(row.created_at),
    status: row.status as WebhookDeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: toDateOrNull(row.next_attempt_at),
    lastAttemptAt: toDateOrNull(row.last_attempt_at),
    lastStatusCode: toNumberOrNull(row.last_status_code),
    lastError: (row.last_error as string | null) ?? null,
    lastResponseExcerpt: (row.last_response_excerpt as string | null) ?? null,
    lastDurationMs: toNumberOrNull(row.last_duration_ms),
    deliveredAt: toDateOrNull(row.delivered_at),
    leaseOwner: (row.lease_owner as string | null) ?? null,
    leaseUntil: toDateOrNull(row.lease_until),
    leaseEpoch: Number(row.lease_epoch),
  };
}

// Drivers differ in how much they parse (PGlite and `pg` give Date and objects; others may give text).
// `new Date(value)` also copies a Date from another realm (jest's sandbox) without losing milliseconds.
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string | Date);
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

export function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function toJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toJsonOrNull<T>(value: unknown): T | null {
  return value === null || value === undefined ? null : toJson<T>(value);
}
