import type { Generation } from '../../../model/generation';
import { IN_FLIGHT } from '../generations/in-flight';
import { toGeneration } from '../rows';
import type { SqlSession } from '../session';
import { pollQueue } from './queue';

/** See PollQueue.nextDueAt. */
export function nextDueAt(db: SqlSession): Promise<Date | null> {
  return pollQueue.nextDueAt(db);
}

/** See PollQueue.findStaleSubmissions. */
export async function findStaleSubmissions(db: SqlSession, before: Date): Promise<Generation[]> {
  const rows = await db.query(
    `SELECT * FROM generations
     WHERE status IN ${IN_FLIGHT} AND upstream_id IS NULL AND created_at < $1
     ORDER BY created_at`,
    [before],
  );
  return rows.map(toGeneration);
}
