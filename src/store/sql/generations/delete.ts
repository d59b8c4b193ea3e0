import type { GenerationStatus } from '../../../model/generation';
import type { OwnedGenerationDeletion } from '../../store';
import { IN_FLIGHT } from './in-flight';
import type { SqlSession } from '../session';

/** See GenerationRecords.deleteGeneration. */
export async function deleteGeneration(db: SqlSession, id: string): Promise<void> {
  await db.query('DELETE FROM generations WHERE id = $1', [id]);
}

/**
 * See GenerationRecords.deleteOwnedGeneration. One statement, so the paid-usage record, the row, its
 * copy job (ON DELETE CASCADE) and its unsent webhooks go together or not at all.
 */
export async function deleteOwnedGeneration(db: SqlSession, owner: string, id: string, at: Date): Promise<OwnedGenerationDeletion> {
  const rows = await db.query<{ status: string; deleted: boolean }>(
    `WITH target AS (
       SELECT id, status FROM generations WHERE id = $1 AND owner = $2 FOR UPDATE
     ), gone AS (
       DELETE FROM generations g USING target
        WHERE g.id = target.id AND g.status NOT IN ${IN_FLIGHT}
       RETURNING g.*
     ), kept AS (
       INSERT INTO deleted_usage (generation_id, owner, model, status, duration_seconds, credits, usd, created_at, deleted_at)
       SELECT id, owner, model, status, (input->>'durationSeconds')::int, (usage->>'credits')::float8, (usage->>'usd')::float8,
              created_at, $3::timestamptz
         FROM gone
       ON CONFLICT (generation_id) DO NOTHING
     ), unsent AS (
       DELETE FROM webhook_deliveries d USING gone
        WHERE d.generation_id = gone.id AND d.owner = gone.owner AND d.status = 'PENDING'
     )
     SELECT target.status, EXISTS (SELECT 1 FROM gone) AS deleted FROM target`,
    [id, owner, at],
  );
  const row = rows[0];
  if (!row) return { found: false, deleted: false };
  return { found: true, deleted: Boolean(row.deleted), status: row.status as GenerationStatus };
}
