import { IN_FLIGHT } from '../generations/in-flight';
import { LeaseQueue } from '../lease-queue';

/** In-flight generations, due at `next_poll_at`, polled by one lease holder at a time. */
export const pollQueue = new LeaseQueue({
  table: 'generations',
  queued: `status IN ${IN_FLIGHT}`,
  columns: {
    id: 'id',
    dueAt: 'next_poll_at',
    leaseOwner: 'lease_owner',
    leaseUntil: 'lease_until',
    leaseEpoch: 'lease_epoch',
  },
  // Owners take turns when many polls are due at once (claimShared).
  group: 'owner',
});
