import type { WebhookDelivery } from '../../../model/webhook';
import { toWebhookDelivery } from '../rows';
import type { SqlSession } from '../session';
import { webhookDeliveryQueue } from './queue';

/** See WebhookSendQueue.claimWebhookDeliveries. */
export async function claimWebhookDeliveries(
  db: SqlSession,
  leaseOwner: string,
  now: Date,
  leaseMs: number,
  limit: number,
  maxPerEndpoint?: number,
): Promise<WebhookDelivery[]> {
  return (await webhookDeliveryQueue.claim(db, leaseOwner, now, leaseMs, limit, maxPerEndpoint)).map(toWebhookDelivery);
}

export function nextWebhookDeliveryDueAt(db: SqlSession): Promise<Date | null> {
  return webhookDeliveryQueue.nextDueAt(db);
}
