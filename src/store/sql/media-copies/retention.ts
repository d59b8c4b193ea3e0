import { MediaCopyState, type Generation } from '../../../model/generation';
import type { ExpiringCopy } from '../../store';
import { toGeneration } from '../rows';
import type { SqlSession } from '../session';

/** See MediaCopyQueue.findExpiringCopies. */
export async function findExpiringCopies(db: SqlSession, storedBefore: Date, limit: number): Promise<ExpiringCopy[]> {
  // The job's created_at (the completion) comes before storedAt, so the index narrows and storedAt decides.
  const rows = await db.query<{ generation_id: string; owner: string }>(
    `SELECT mc.generation_id, mc.owner
       FROM media_copies mc JOIN generations g ON g.id = mc.generation_id
      WHERE mc.state = '${MediaCopyState.STORED}' AND mc.created_at < $1::timestamptz
        AND (g.video->'copy'->>'storedAt')::timestamptz < $1::timestamptz
      ORDER BY mc.created_at
      LIMIT $2`,
    [storedBefore, limit],
  );
  return rows.map((r) => ({ generationId: String(r.generation_id), owner: String(r.owner) }));
}

/** See MediaCopyQueue.markCopiesExpired. */
export async function markCopiesExpired(db: SqlSession, ids: readonly string[], at: Date): Promise<Generation[]> {
  const rows = await db.query(
    `WITH expired AS (
       UPDATE media_copies SET state = '${MediaCopyState.EXPIRED}'
        WHERE generation_id = ANY($1::text[]) AND state = '${MediaCopyState.STORED}'
       RETURNING generation_id
     )
     UPDATE generations g
        SET video = jsonb_set(g.video, '{copy}', (g.video->'copy') || jsonb_build_object('state', '${MediaCopyState.EXPIRED}', 'expiredAt', $2::text)),
            version = g.version + 1, updated_at = $3::timestamptz
       FROM expired
      WHERE g.id = expired.generation_id AND g.video IS NOT NULL
     RETURNING g.*`,
    [[...ids], at.toISOString(), at],
  );
  return rows.map(toGeneration);
}

/** See MediaCopyQueue.hasMediaCopy. */
export async function hasMediaCopy(db: SqlSession, generationId: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM media_copies WHERE generation_id = $1', [generationId]);
  return rows.length > 0;
}
