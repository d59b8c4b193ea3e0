import type { WebhookDelivery } from '../../../model/webhook';
import type { Lease, WebhookAttemptRecord } from '../../store';
import { toWebhookDelivery } from '../rows';
import { Params, type SqlSession } from '../session';
import { webhookDeliveryQueue } from './queue';

/** See WebhookSendQueue.recordWebhookAttempt. */
export async function recordWebhookAttempt(db: SqlSession, id: string, lease: Lease, attempt: WebhookAttemptRecord): Promise<boolean> {
  const params = new Params();
  const sets = [
    `attempts = attempts + 1`,
    `status = ${params.add(attempt.status)}`,
    `last_attempt_at = ${params.add(attempt.at)}::timestamptz`,
    `last_status_code = ${params.add(attempt.statusCode)}::int`,
    `last_error = ${params.add(attempt.error)}`,
    `last_response_excerpt = ${params.add(attempt.responseExcerpt)}`,
    `last_duration_ms = ${params.add(attempt.durationMs)}::int`,
    `delivered_at = ${params.add(attempt.deliveredAt)}::timestamptz`,
    ...webhookDeliveryQueue.sets({ dueAt: attempt.nextAttemptAt, leaseOwner: null, leaseUntil: null }, params),
  ];
  return webhookDeliveryQueue.updateHeld(db, id, lease, sets, params);
}

/** See WebhookDeliveryRecords.redeliverWebhookDelivery. */
export async function redeliverWebhookDelivery(db: SqlSession, owner: string, id: string, at: Date): Promise<WebhookDelivery | null> {
  const rows = await db.query(
    `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $3::timestamptz
     WHERE owner = $1 AND id = $2
       -- An attempt in flight keeps its lease; the delivery is already being sent.
       AND (lease_until IS NULL OR lease_until < $3::timestamptz)
     RETURNING *`,
    [owner, id, at],
  );
  if (rows[0]) return toWebhookDelivery(rows[0]);
  const current = await db.query('SELECT * FROM webhook_deliveries WHERE owner = $1 AND id = $2', [owner, id]);
  return current[0] ? toWebhookDelivery(current[0]) : null;
}
