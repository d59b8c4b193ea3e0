import { LeaseQueue } from '../lease-queue';

/** Pending webhook deliveries, due at `next_attempt_at`, each attempt sent by one lease holder. */
export const webhookDeliveryQueue = new LeaseQueue({
  table: 'webhook_deliveries',
  queued: `status = 'PENDING'`,
  columns: {
    id: 'id',
    dueAt: 'next_attempt_at',
    leaseOwner: 'lease_owner',
    leaseUntil: 'lease_until',
    leaseEpoch: 'lease_epoch',
  },
  // An endpoint's deliveries, or a per-generation webhook's by its URL.
  group: 'COALESCE(endpoint_id, url)',
});
