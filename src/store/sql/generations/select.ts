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

/** One page of the owner's rows, newest first, ids and versions only. See GenerationRecords.listGenerationKeys. */
export async function listGenerationKeys(db: SqlSession, query: ListQuery): Promise<GenerationKey[]> {
  const params = new Params();
  const where = [`owner = ${params.add(query.owner)}`];
  if (query.before) {
    where.push(`(created_at, id) < (${params.add(query.before.createdAt)}::timestamptz, ${params.add(query.before.id)}::text)`);
  }
  if (query.statuses && query.statuses.length > 0) {
    where.push(`status = ANY(${params.add([...query.statuses])}::text[])`);
  }
  if (query.models && query.models.length > 0) {
    where.push(`model = ANY(${params.add([...query.models])}::text[])`);
  }
  const rows = await db.query(
    `SELECT id, version FROM generations WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, id DESC LIMIT ${params.add(Math.max(0, query.limit))}`,
    params.values,
  );
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
