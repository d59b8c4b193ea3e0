import type { Generation, GenerationState } from '../../../model/generation';
import type { GenerationUpdate } from '../../store';
import { bookkeepingSets } from '../poll-queue/update';
import { pollQueue } from '../poll-queue/queue';
import { toGeneration } from '../rows';
import { jsonParam, Params, type SqlSession } from '../session';

/** See GenerationRecords.updateGeneration. */
export async function updateGeneration(db: SqlSession, update: GenerationUpdate): Promise<Generation | null> {
  const { id, expectedVersion, change, bookkeeping = {}, at = new Date(), lease } = update;
  const params = new Params();
  const sets = [...stateSets(change, params), ...bookkeepingSets(bookkeeping, params)];
  sets.push('version = version + 1', `updated_at = ${params.add(at)}::timestamptz`);
  if (change.status !== undefined) {
    // SET expressions see the row as it was, so `status` and `upstream_status` here are the old values:
    // a single statement decides and appends the transition without a read-modify-write race.
    const status = params.add(change.status);
    const upstreamStatus = params.add(change.upstreamStatus ?? null);
    sets.push(
      `transitions = CASE WHEN status IS DISTINCT FROM ${status}::text
         THEN transitions || jsonb_build_array(jsonb_build_object(
           'status', ${status}::text,
           'upstreamStatus', COALESCE(${upstreamStatus}::text, upstream_status),
           'at', ${params.add(at.toISOString())}::text))
         ELSE transitions END`,
    );
  }
  const rows = await db.query(
    `UPDATE generations SET ${sets.join(', ')}
     WHERE id = ${params.add(id)} AND version = ${params.add(expectedVersion)}::int
       ${lease ? `AND ${pollQueue.held(lease, params)}` : ''}
     RETURNING *`,
    params.values,
  );
  return rows[0] ? toGeneration(rows[0]) : null;
}

/** SET clauses for the visible fields; undefined means "leave alone", null means "set null". */
function stateSets(change: Partial<GenerationState>, params: Params): string[] {
  const sets: string[] = [];
  if (change.status !== undefined) sets.push(`status = ${params.add(change.status)}`);
  if (change.upstreamId !== undefined) sets.push(`upstream_id = ${params.add(change.upstreamId)}`);
  if (change.upstreamStatus !== undefined) sets.push(`upstream_status = ${params.add(change.upstreamStatus)}`);
  if (change.video !== undefined) sets.push(`video = ${jsonParam(change.video, params)}`);
  if (change.error !== undefined) sets.push(`error = ${jsonParam(change.error, params)}`);
  if (change.usage !== undefined) sets.push(`usage = ${jsonParam(change.usage, params)}`);
  if (change.completedAt !== undefined) {
    sets.push(`completed_at = ${params.add(change.completedAt)}::timestamptz`);
  }
  return sets;
}
