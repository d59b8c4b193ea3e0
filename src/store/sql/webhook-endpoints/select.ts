import type { WebhookEndpoint } from '../../../model/webhook';
import { toWebhookEndpoint } from '../rows';
import type { SqlSession } from '../session';

/** The owner's endpoints, oldest first. */
export async function listWebhookEndpoints(db: SqlSession, owner: string): Promise<WebhookEndpoint[]> {
  const rows = await db.query('SELECT * FROM webhook_endpoints WHERE owner = $1 ORDER BY created_at, id', [owner]);
  return rows.map(toWebhookEndpoint);
}

/** The owner's endpoint with this id; another owner's is null, like an unknown one. */
export async function getWebhookEndpoint(db: SqlSession, owner: string, id: string): Promise<WebhookEndpoint | null> {
  const rows = await db.query('SELECT * FROM webhook_endpoints WHERE owner = $1 AND id = $2', [owner, id]);
  return rows[0] ? toWebhookEndpoint(rows[0]) : null;
}

/** Endpoints by id, whoever owns them: the sender looks up where its claimed deliveries go. */
export async function getWebhookEndpointsByIds(db: SqlSession, ids: readonly string[]): Promise<WebhookEndpoint[]> {
  if (ids.length === 0) return [];
  // JSON travels as text (see jsonParam): no driver-specific array encoding.
  const rows = await db.query('SELECT * FROM webhook_endpoints WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))', [JSON.stringify(ids)]);
  return rows.map(toWebhookEndpoint);
}
