import { LeaseQueue } from '../lease-queue';

/** Pending copies of finished videos, due at `due_at`, worked on by one lease holder at a time. */
export const mediaCopyQueue = new LeaseQueue({
  table: 'media_copies',
  queued: `state = 'PENDING'`,
  columns: {
    id: 'generation_id',
    dueAt: 'due_at',
    leaseOwner: 'lease_owner',
    leaseUntil: 'lease_until',
    leaseEpoch: 'lease_epoch',
  },
});
