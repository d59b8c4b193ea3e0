import type { Generation, GenerationState } from '../../../model/generation';
import type { GenerationUpdate } from '../../store';
import { bookkeepingSets } from '../poll-queue/update';
import { pollQueue } from '../poll-queue/queue';
import { toGeneration } from '../rows';
import { webhookOutboxInsert } from '../webhook-deliveries/outbox';
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
  sets.push(reportedVersionSet(change, params));
  const rows = await db.query(
    `WITH updated AS (
       UPDATE generations SET ${sets.join(', ')}
       WHERE id = ${params.add(id)} AND version = ${params.add(expectedVersion)}::int
         ${lease ? `AND ${pollQueue.held(lease, params)}` : ''}
       RETURNING *
     ), outbox AS (${statusOutboxInsert})
     SELECT * FROM updated`,
    params.values,
  );
  return rows[0] ? toGeneration(rows[0]) : null;
}

/**
 * Marks a change that webhooks report: a new status, or the upstream accepting the create (the
 * generation stays QUEUED, but until then a refused create would still remove it, so "queued" is not
 * reported before). SET sees the row as it was, so the decision needs no read before the write.
 */
function reportedVersionSet(change: Partial<GenerationState>, params: Params): string {
  const events: string[] = [];
  if (change.status !== undefined) events.push(`status IS DISTINCT FROM ${params.add(change.status)}::text`);
  if (change.upstreamId) events.push('upstream_id IS NULL');
  if (events.length === 0) return 'reported_version = reported_version';
  return `reported_version = CASE WHEN ${events.join(' OR ')} THEN version + 1 ELSE reported_version END`;
}

/**
 * The outbox for status changes (see webhookOutboxInsert): a change marked as reported by
 * reportedVersionSet, its event type the status in the payload's spelling (`generation.timed_out`,
 * WebhookEventType).
 */
const statusOutboxInsert = webhookOutboxInsert('updated', `'generation.' || lower(u.status)`, 'u.reported_version = u.version');

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
