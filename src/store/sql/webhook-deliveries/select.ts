import type { WebhookDelivery } from '../../../model/webhook';
import type { WebhookDeliveryQuery } from '../../store';
import { toDateOrNull, toWebhookDelivery } from '../rows';
import { Params, type SqlSession } from '../session';

/** See WebhookDeliveryRecords.listWebhookDeliveries. */
export async function listWebhookDeliveries(db: SqlSession, query: WebhookDeliveryQuery): Promise<WebhookDelivery[]> {
  const params = new Params();
  const where = [`owner = ${params.add(query.owner)}`];
  if (query.endpointId !== undefined) where.push(`endpoint_id = ${params.add(query.endpointId)}`);
  if (query.generationId !== undefined) where.push(`generation_id = ${params.add(query.generationId)}`);
  const rows = await db.query(
    `SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, generation_version DESC, id DESC
     LIMIT ${params.add(query.limit)}::int`,
    params.values,
  );
  return rows.map(toWebhookDelivery);
}

/** See WebhookSendQueue.pendingWebhookDeliveries. */
export async function pendingWebhookDeliveries(db: SqlSession): Promise<{ count: number; oldestCreatedAt: Date | null }> {
  const rows = await db.query<{ count: unknown; oldest: unknown }>(
    `SELECT count(*) AS count, min(created_at) AS oldest FROM webhook_deliveries WHERE status = 'PENDING'`,
  );
  return { count: Number(rows[0]?.count ?? 0), oldestCreatedAt: toDateOrNull(rows[0]?.oldest) };
}
