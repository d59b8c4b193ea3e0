import type { Lease, PollBookkeeping } from '../../store';
import { Params, type SqlSession } from '../session';
import { pollQueue } from './queue';

/** See PollQueue.updateBookkeeping. */
export async function updateBookkeeping(db: SqlSession, id: string, lease: Lease, bookkeeping: PollBookkeeping): Promise<boolean> {
  const params = new Params();
  return pollQueue.updateHeld(db, id, lease, bookkeepingSets(bookkeeping, params), params);
}

/** SET clauses for the poller's bookkeeping; undefined leaves a column alone. */
export function bookkeepingSets(b: PollBookkeeping, params: Params): string[] {
  const sets = pollQueue.sets({ dueAt: b.nextPollAt }, params);
  if (b.pollCount !== undefined) sets.push(`poll_count = ${params.add(b.pollCount)}::int`);
  if (b.pollFailures !== undefined) sets.push(`poll_failures = ${params.add(b.pollFailures)}::int`);
  sets.push(...pollQueue.sets({ leaseOwner: b.leaseOwner, leaseUntil: b.leaseUntil }, params));
  return sets;
}
