import type { Generation } from '../../../model/generation';
import type { GenerationKey, ListQuery } from '../../store';
import { toGeneration } from '../rows';
import { Params, type SqlSession } from '../session';

/** See GenerationRecords.getGenerations. */
export async function getGenerations(db: SqlSession, owner: string, ids: readonly string[]): Promise<Generation[]> {
  if (ids.length === 0) return [];
  const rows = await db.query('SELECT * FROM generations WHERE owner = $1 AND id = ANY($2::text[])', [owner, [...ids]]);
  return rows.map(toGeneration);
}

export async function getGeneration(db: SqlSession, id: string): Promise<Generation | null> {
  const rows = await db.query('SELECT * FROM generations WHERE id = $1', [id]);
  return rows[0] ? toGeneration(rows[0]) : null;
}

export async function findByIdempotencyKey(db: SqlSession, owner: string, key: string): Promise<Generation | null> {
  const rows = await db.query('SELECT * FROM generations WHERE owner = $1 AND idempotency_key = $2', [owner, key]);
  return rows[0] ? toGeneration(rows[0]) : null;
}

/**
 * Most distinct models a list filter is walked by, one index range each; a longer list is checked
 * row by row instead (fine for a filter that matches often, slow for one that matches rarely).
 */
const MAX_WALKED_MODELS = 16;

/**
 * One page of the owner's rows, newest first, ids and versions only. See GenerationRecords.listGenerationKeys.
 *
 * With a status (or model) filter, PostgreSQL cannot read `status = ANY(...)` from an index in
 * created_at order, so it would walk the owner's whole history by generations_owner_created and drop
 * what does not match: slow when few rows match. Instead each filter value is walked on its own
 * (owner, value, created_at) index range, at most one page each, and the pages are merged: the cost
 * follows the page size and the number of values, not the history.
 */
export async function listGenerationKeys(db: SqlSession, query: ListQuery): Promise<GenerationKey[]> {
  const params = new Params();
  const statuses = [...new Set(query.statuses ?? [])];
  const models = [...new Set(query.models ?? [])];
  const walked: { column: 'status' | 'model'; values: string[] } | null =
    statuses.length > 0
      ? { column: 'status', values: statuses }
      : models.length > 0 && models.length <= MAX_WALKED_MODELS
        ? { column: 'model', values: models }
        : null;
  const where = [`owner = ${params.add(query.owner)}`];
  if (query.before) {
    where.push(`(created_at, id) < (${params.add(query.before.createdAt)}::timestamptz, ${params.add(query.before.id)}::text)`);
  }
  if (statuses.length > 0 && walked?.column !== 'status') where.push(`status = ANY(${params.add(statuses)}::text[])`);
  if (models.length > 0 && walked?.column !== 'model') where.push(`model = ANY(${params.add(models)}::text[])`);
  const limit = params.add(Math.max(0, query.limit));
  const order = 'ORDER BY created_at DESC, id DESC';
  const sql = walked
    ? `SELECT id, version FROM unnest(${params.add(walked.values)}::text[]) AS walked(value),
         LATERAL (SELECT id, version, created_at FROM generations
                   WHERE ${[...where, `${walked.column} = walked.value`].join(' AND ')} ${order} LIMIT ${limit}) AS page
       ${order} LIMIT ${limit}`
    : `SELECT id, version FROM generations WHERE ${where.join(' AND ')} ${order} LIMIT ${limit}`;
  const rows = await db.query(sql, params.values);
  return rows.map((r) => ({ id: String(r.id), version: Number(r.version) }));
}

/** See GenerationRecords.changedSince. */
export async function changedSince(db: SqlSession, owner: string, since: Date, limit: number): Promise<Generation[]> {
  const rows = await db.query(
    `SELECT * FROM (
       SELECT * FROM generations WHERE owner = $1 AND updated_at >= $2::timestamptz ORDER BY updated_at DESC LIMIT $3
     ) AS recent ORDER BY updated_at, id`,
    [owner, since, Math.max(0, limit)],
  );
  return rows.map(toGeneration);
}
