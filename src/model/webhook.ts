/**
 * Webhook endpoints as the gateway stores and serves them: where an owner's backend wants to be
 * called, for which events, and the secret the calls are signed with (Standard Webhooks).
 */
import { GenerationStatus, type GenerationError, type GenerationVideo, type Usage } from './generation';

/**
 * What a webhook reports. The values are the payload's `type` (the dotted spelling of Standard
 * Webhooks' examples and of most senders); GraphQL shows the names.
 */
export enum WebhookEventType {
  GENERATION_QUEUED = 'generation.queued',
  GENERATION_GENERATING = 'generation.generating',
  GENERATION_COMPLETED = 'generation.completed',
  GENERATION_FAILED = 'generation.failed',
  GENERATION_CANCELLED = 'generation.cancelled',
  GENERATION_TIMED_OUT = 'generation.timed_out',
  /** A finished video was copied into the gateway's media store (queued by finishMediaCopy). */
  VIDEO_STORED = 'video.stored',
}

/** Each event type's meaning, in the words clients read (the schema's descriptions are these). */
export const WEBHOOK_EVENT_MEANINGS: Readonly<Record<WebhookEventType, string>> = {
  [WebhookEventType.GENERATION_QUEUED]: 'A generation was accepted and waits to start',
  [WebhookEventType.GENERATION_GENERATING]: 'The upstream started generating',
  [WebhookEventType.GENERATION_COMPLETED]: 'The video is ready: `video.url` is set',
  [WebhookEventType.GENERATION_FAILED]: 'The generation ended without a video: see `error`',
  [WebhookEventType.GENERATION_CANCELLED]: 'The owner cancelled the generation',
  [WebhookEventType.GENERATION_TIMED_OUT]: "The generation was still pending when the gateway's deadline passed",
  [WebhookEventType.VIDEO_STORED]:
    "The finished video was copied into the gateway's media store: `video.url` is the gateway's own link (MEDIA_STORE; a copy given up on sends nothing)",
};

/** The event a generation reaching `status` reports. */
export const EVENT_OF_STATUS: Readonly<Record<GenerationStatus, WebhookEventType>> = {
  [GenerationStatus.QUEUED]: WebhookEventType.GENERATION_QUEUED,
  [GenerationStatus.GENERATING]: WebhookEventType.GENERATION_GENERATING,
  [GenerationStatus.COMPLETED]: WebhookEventType.GENERATION_COMPLETED,
  [GenerationStatus.FAILED]: WebhookEventType.GENERATION_FAILED,
  [GenerationStatus.CANCELLED]: WebhookEventType.GENERATION_CANCELLED,
  [GenerationStatus.TIMED_OUT]: WebhookEventType.GENERATION_TIMED_OUT,
};

export interface WebhookEndpoint {
  id: string;
  owner: string;
  url: string;
  description: string | null;
  /** The events it receives; null: every event. */
  events: WebhookEventType[] | null;
  enabled: boolean;
  /** Why it was disabled (by its owner, a 410, or failing too long); null while enabled. */
  disabledReason: string | null;
  /** `whsec_` + base64 key, as the standardwebhooks library takes it. Never shown after create or rotation. */
  secret: string;
  /** The secret before the last rotation, still signed with (beside `secret`) until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  /** Since when its attempts have failed with no success in between; null while it answers 2xx. */
  failingSince?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A webhook named by `createVideoGeneration` for that one generation, signed with the owner's signing secret. */
export interface GenerationWebhook {
  url: string;
  /** The events it receives; null: every event. */
  events: WebhookEventType[] | null;
}

/**
 * The owner's signing secret: what per-generation webhooks are signed with (endpoints have their own).
 * Shown once when created or rotated; the previous one keeps signing until `previousSecretExpiresAt`.
 */
export interface WebhookSigningSecret {
  owner: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What an owner may change; undefined leaves a field alone. */
export interface WebhookEndpointChange {
  url?: string;
  description?: string | null;
  events?: WebhookEventType[] | null;
  enabled?: boolean;
}

export enum WebhookDeliveryStatus {
  /** Not yet answered with a 2xx; `nextAttemptAt` says when it is tried (again). */
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  /** Given up: retries ran out, or the endpoint answered 410, was disabled or deleted. */
  FAILED = 'FAILED',
}

export const WEBHOOK_DELIVERY_STATUS_MEANINGS: Readonly<Record<WebhookDeliveryStatus, string>> = {
  [WebhookDeliveryStatus.PENDING]: 'Not yet answered with a 2xx; `nextAttemptAt` says when it is tried (again)',
  [WebhookDeliveryStatus.DELIVERED]: 'The endpoint answered with a 2xx',
  [WebhookDeliveryStatus.FAILED]: 'Given up: retries ran out, or the endpoint answered 410 Gone, was disabled or was deleted',
};

/** The generation as a webhook payload shows it (the GraphQL API's fields of the same names). */
export interface WebhookGenerationData {
  id: string;
  status: GenerationStatus;
  version: number;
  model: string;
  video: GenerationVideo | null;
  error: GenerationError | null;
  usage: Usage | null;
}

/** One event for one endpoint: what is sent, and how its attempts went. */
export interface WebhookDelivery {
  id: string;
  /** The `webhook-id` header: the same for every endpoint and every attempt of one event. */
  messageId: string;
  owner: string;
  /** null: a per-generation webhook, sent to `url`. */
  endpointId: string | null;
  url: string | null;
  generationId: string;
  generationVersion: number;
  eventType: WebhookEventType;
  data: WebhookGenerationData;
  /** When the change it reports happened. */
  occurredAt: Date;
  createdAt: Date;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  /** The start of the last answer's body, at most a few hundred characters. */
  lastResponseExcerpt: string | null;
  lastDurationMs: number | null;
  deliveredAt: Date | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  leaseEpoch: number;
}
