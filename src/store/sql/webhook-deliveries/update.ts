import type { Lease, WebhookAttemptRecord } from '../../store';
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
