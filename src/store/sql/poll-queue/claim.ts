import type { Generation } from '../../../model/generation';
import { toGeneration } from '../rows';
import type { SqlSession } from '../session';
import { pollQueue } from './queue';

/** See PollQueue.claimDueGenerations. */
export async function claimDueGenerations(db: SqlSession, leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<Generation[]> {
  return (await pollQueue.claim(db, leaseOwner, now, leaseMs, limit)).map(toGeneration);
}
