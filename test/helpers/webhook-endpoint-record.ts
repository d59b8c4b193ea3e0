/**
 * A webhook endpoint as the store keeps it, for tests (and the webhook bench) that write one through
 * the store rather than through the API. Every field has a plain value; pass what the test is about.
 */
import { randomUUID } from 'node:crypto';
import type { WebhookEndpoint } from '../../src/model/webhook';

/** A well-formed signing secret (whsec_ and 32 random characters). */
export const ENDPOINT_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export function webhookEndpointRecord(fields: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  const now = new Date();
  const id = fields.id ?? `whe_${randomUUID()}`;
  return {
    id,
    owner: 'alice',
    url: `https://hooks.example.com/${id}`,
    description: null,
    events: null,
    enabled: true,
    disabledReason: null,
    secret: ENDPOINT_SECRET,
    previousSecret: null,
    previousSecretExpiresAt: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}
