import type { Generation, MediaCopy } from '../../../model/generation';
import type { MediaCopyJob } from '../../store';
import { toGeneration } from '../rows';
import { jsonParam, Params, type SqlSession } from '../session';
import { mediaCopyQueue } from './queue';

/** See MediaCopyQueue.retryMediaCopy. */
export async function retryMediaCopy(db: SqlSession, job: MediaCopyJob, dueAt: Date, lastError: string, counted: boolean): Promise<boolean> {
  const params = new Params();
  const sets = mediaCopyQueue.sets({ dueAt, leaseOwner: null, leaseUntil: null }, params);
  sets.push(`attempts = attempts + ${counted ? 1 : 0}`, `last_error = ${params.add(lastError)}::text`);
  return mediaCopyQueue.updateHeld(db, job.generationId, job.lease, sets, params);
}

/** See MediaCopyQueue.finishMediaCopy. */
export async function finishMediaCopy(db: SqlSession, job: MediaCopyJob, copy: MediaCopy, at: Date): Promise<Generation | null> {
  const params = new Params();
  const id = params.add(job.generationId);
  const copyJson = jsonParam(copy, params);
  const atParam = params.add(at);
  // One statement: the job ends and the generation shows it, or (lease lost) neither happens.
  const rows = await db.query(
    `WITH ended AS (
       UPDATE media_copies
       SET state = ${params.add(copy.state)}::text, due_at = NULL, lease_owner = NULL, lease_until = NULL,
           attempts = attempts + 1, last_error = ${params.add(copy.errorMessage ?? null)}::text
       WHERE generation_id = ${id} AND ${mediaCopyQueue.held(job.lease, params)}
       RETURNING generation_id)
     UPDATE generations g
     SET video = jsonb_set(g.video, '{copy}', ${copyJson}), version = g.version + 1, updated_at = ${atParam}::timestamptz
     FROM ended
     WHERE g.id = ended.generation_id AND g.video IS NOT NULL
     RETURNING g.*`,
    params.values,
  );
  return rows[0] ? toGeneration(rows[0]) : null;
}
