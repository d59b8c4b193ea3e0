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
