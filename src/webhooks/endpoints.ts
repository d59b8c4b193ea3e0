/**
 * Owners' webhook endpoints: create, list, change, rotate the secret of, delete. Every call is scoped
 * to the owner; another owner's endpoint is NOT_FOUND, exactly like an unknown id. The signing secret
 * is returned by create and rotation only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { badInput, ErrorCode, GatewayError, notFound } from '../errors';
import { WebhookEventType, type WebhookEndpoint, type WebhookEndpointChange } from '../model/webhook';
import type { WebhookEndpointRecords } from '../store/store';
import { checkEndpointUrl, type EndpointUrlPolicy, type ResolveHost } from './endpoint-url';

export interface WebhookEndpointSettings extends EndpointUrlPolicy {
  /** Most endpoints one owner may have. */
  maxEndpointsPerOwner: number;
  /** How long the secret before a rotation keeps signing deliveries beside the new one, in ms. */
  secretRotationGraceMs: number;
}

export interface NewWebhookEndpoint {
  url: string;
  description?: string | null;
  /** null or undefined: every event. */
  events?: readonly WebhookEventType[] | null;
}

/** An endpoint with its secret: what create and rotation answer, once. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret: string;
}

/** Longest description, in characters. */
export const MAX_DESCRIPTION_LENGTH = 500;

const EVENT_TYPES = new Set<string>(Object.values(WebhookEventType));

export class WebhookEndpoints {
  constructor(
    private readonly store: WebhookEndpointRecords,
    private readonly settings: WebhookEndpointSettings,
    private readonly resolve: ResolveHost,
  ) {}

  async create(owner: string, input: NewWebhookEndpoint): Promise<EndpointWithSecret> {
    const url = await checkEndpointUrl('input.url', input.url, this.settings, this.resolve);
    const now = new Date();
    const endpoint: WebhookEndpoint = {
      id: `whe_${randomUUID()}`,
      owner,
      url: url.href,
      description: checkDescription(input.description ?? null),
      events: checkEvents(input.events ?? null),
      enabled: true,
      disabledReason: null,
      secret: newSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.store.insertWebhookEndpoint(endpoint, this.settings.maxEndpointsPerOwner))) {
      throw new GatewayError(
        ErrorCode.BAD_USER_INPUT,
        `You have the most webhook endpoints allowed (${this.settings.maxEndpointsPerOwner}): delete one first`,
        { field: 'input', limit: this.settings.maxEndpointsPerOwner },
      );
    }
    return { endpoint, secret: endpoint.secret };
  }

  list(owner: string): Promise<WebhookEndpoint[]> {
    return this.store.listWebhookEndpoints(owner);
  }

  async get(owner: string, id: string): Promise<WebhookEndpoint> {
    return (await this.store.getWebhookEndpoint(owner, id)) ?? throwEndpointNotFound();
  }

  async update(owner: string, id: string, input: WebhookEndpointChange): Promise<WebhookEndpoint> {
    const change: WebhookEndpointChange = {};
    if (input.url !== undefined) change.url = (await checkEndpointUrl('input.url', input.url, this.settings, this.resolve)).href;
    if (input.description !== undefined) change.description = checkDescription(input.description);
    if (input.events !== undefined) change.events = checkEvents(input.events);
    if (input.enabled !== undefined) change.enabled = input.enabled;
    // Re-enabling clears the reason it was disabled; disabling by hand says so.
    const disabledReason = change.enabled === undefined ? undefined : change.enabled ? null : 'Disabled by its owner';
    const updated = await this.store.updateWebhookEndpoint(owner, id, { change, disabledReason, at: new Date() });
    return updated ?? throwEndpointNotFound();
  }

  /** A new secret; deliveries are signed with the old one too until the grace period ends. */
  async rotateSecret(owner: string, id: string): Promise<EndpointWithSecret> {
    const now = new Date();
    const secret = newSecret();
    const updated = await this.store.updateWebhookEndpoint(owner, id, {
      change: {},
      secret: { value: secret, previousExpiresAt: new Date(now.getTime() + this.settings.secretRotationGraceMs) },
      at: now,
    });
    return { endpoint: updated ?? throwEndpointNotFound(), secret };
  }

  async delete(owner: string, id: string): Promise<void> {
    if (!(await this.store.deleteWebhookEndpoint(owner, id))) throwEndpointNotFound();
  }
}

/** 24 random bytes in the `whsec_` form the standardwebhooks libraries take (Svix uses the same). */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function checkDescription(description: string | null): string | null {
  if (description === null) return null;
  const trimmed = description.trim();
  if ([...trimmed].length > MAX_DESCRIPTION_LENGTH) {
    throw badInput('input.description', `input.description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  if (trimmed.includes('\0')) throw badInput('input.description', 'input.description must not contain NUL characters');
  return trimmed === '' ? null : trimmed;
}

/** An empty list would receive nothing, which is what disabling is for: refused rather than guessed. */
export function checkEvents(events: readonly WebhookEventType[] | null, field = 'input.events'): WebhookEventType[] | null {
  if (events === null) return null;
  if (events.length === 0) {
    throw badInput(field, `${field} must name at least one event, or be null for every event`);
  }
  for (const event of events) {
    if (!EVENT_TYPES.has(event)) throw badInput(field, `${field}: unknown event ${String(event)}`);
  }
  return [...new Set(events)];
}

export function throwEndpointNotFound(): never {
  throw notFound('Webhook endpoint');
}
