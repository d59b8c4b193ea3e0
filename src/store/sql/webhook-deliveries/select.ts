import type { WebhookDelivery } from '../../../model/webhook';
import type { WebhookDeliveryQuery } from '../../store';
import { toWebhookDelivery } from '../rows';
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
