import type { Generation, Transition } from '../../../model/generation';
import type { NewGeneration } from '../../store';
import { toGeneration } from '../rows';
import type { SqlSession } from '../session';
import { findByIdempotencyKey } from './select';

/** See GenerationRecords.insertGeneration. */
export async function insertGeneration(db: SqlSession, g: NewGeneration): Promise<{ inserted: boolean; generation: Generation }> {
  const transitions: Transition[] = [{ status: g.status, upstreamStatus: null, at: g.createdAt }];
  // A concurrent insert with the same key may also be a concurrent delete of it (a rejected create),
  // so the existing row can vanish between the two statements: try again a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const rows = await db.query(
      `INSERT INTO generations (
         id, owner, model, input, input_hash, idempotency_key, status,
         created_at, updated_at, deadline_at, version, transitions, poll_count, poll_failures,
         webhook_url, webhook_events
       ) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $8, $9, 1, $10::jsonb, 0, 0, $11, $12::jsonb)
       ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        g.id,
        g.owner,
        g.input.model,
        JSON.stringify(g.input),
        g.inputHash,
        g.idempotencyKey,
        g.status,
        g.createdAt,
        g.deadlineAt,
        JSON.stringify(transitions),
        g.webhook?.url ?? null,
        g.webhook?.events ? JSON.stringify(g.webhook.events) : null,
      ],
    );
    if (rows[0]) return { inserted: true, generation: toGeneration(rows[0]) };
    const existing = g.idempotencyKey === null ? null : await findByIdempotencyKey(db, g.owner, g.idempotencyKey);
    if (existing) return { inserted: false, generation: existing };
  }
  throw new Error(`could not insert generation ${g.id}: its idempotency key keeps conflicting`);
}
