import type { Generation, MediaCopy } from '../../../model/generation';
import type { MediaCopyJob } from '../../store';
import { toGeneration } from '../rows';
import { jsonParam, Params, type SqlSession } from '../session';
import { webhookOutboxInsert } from '../webhook-deliveries/outbox';
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
  // One statement: the job ends, the generation shows it and a stored copy's webhooks are queued, or
  // (lease lost) none of it happens.
  const rows = await db.query(
    `WITH ended AS (
       UPDATE media_copies
       SET state = ${params.add(copy.state)}::text, due_at = NULL, lease_owner = NULL, lease_until = NULL,
           attempts = attempts + 1, last_error = ${params.add(copy.errorMessage ?? null)}::text
       WHERE generation_id = ${id} AND ${mediaCopyQueue.held(job.lease, params)}
       RETURNING generation_id
     ), updated AS (
       UPDATE generations g
       SET video = jsonb_set(g.video, '{copy}', ${copyJson}), version = g.version + 1, updated_at = ${atParam}::timestamptz
       FROM ended
       WHERE g.id = ended.generation_id AND g.video IS NOT NULL
       RETURNING g.*
     ), outbox AS (${storedOutboxInsert})
     SELECT * FROM updated`,
    params.values,
  );
  return rows[0] ? toGeneration(rows[0]) : null;
}

/**
 * `video.stored` (WebhookEventType.VIDEO_STORED): only a STORED copy is an event. A copy given up on
 * changes nothing a receiver acts on (the upstream's link, already reported with `generation.completed`,
 * stays the video's URL), so it is reported to nobody.
 */
const storedOutboxInsert = webhookOutboxInsert('updated', `'video.stored'`, `u.video->'copy'->>'state' = 'STORED'`);
