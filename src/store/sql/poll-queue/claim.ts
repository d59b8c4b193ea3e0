import type { Generation } from '../../../model/generation';
import { toGeneration } from '../rows';
import type { SqlSession } from '../session';
import { pollQueue } from './queue';

/** See PollQueue.claimDueGenerations. */
export async function claimDueGenerations(db: SqlSession, leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<Generation[]> {
  return (await pollQueue.claim(db, leaseOwner, now, leaseMs, limit)).map(toGeneration);
}

/** See PollQueue.claimDueGenerationsShared. */
export async function claimDueGenerationsShared(
  db: SqlSession,
  leaseOwner: string,
  now: Date,
  leaseMs: number,
  limit: number,
  usedByOwner: Readonly<Record<string, number>>,
): Promise<Generation[]> {
  return (await pollQueue.claimShared(db, leaseOwner, now, leaseMs, limit, usedByOwner, SHARE_WINDOW)).map(toGeneration);
}

/**
 * How many of the most overdue generations the owners' turns are shared among: enough for every
 * owner with work in a large backlog to be seen, small enough to keep a claim an index scan.
 */
export const SHARE_WINDOW = 2_000;
