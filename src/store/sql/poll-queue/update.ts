import type { Lease, PollBookkeeping, PollRelease } from '../../store';
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

/** See PollQueue.releasePolled. */
export async function releasePolled(db: SqlSession, leaseOwner: string, releases: readonly PollRelease[]): Promise<Set<string>> {
  if (releases.length === 0) return new Set();
  const ids = await pollQueue.releaseHeld(db, leaseOwner, releases, {
    dueAt: releases.map((r) => r.nextPollAt.toISOString()),
    extra: [
      { column: 'poll_count', type: 'int', values: releases.map((r) => r.pollCount) },
      { column: 'poll_failures', type: 'int', values: releases.map((r) => r.pollFailures) },
    ],
  });
  return new Set(ids);
}
