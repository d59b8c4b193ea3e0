import type { SqlSession } from '../session';

/** True when the owner had an endpoint with this id. */
export async function deleteWebhookEndpoint(db: SqlSession, owner: string, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM webhook_endpoints WHERE owner = $1 AND id = $2 RETURNING id', [owner, id]);
  return rows.length > 0;
}
