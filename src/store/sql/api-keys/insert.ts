import type { ApiKeyRecord } from '../../store';
import type { SqlSession } from '../session';

export async function insertApiKey(db: SqlSession, key: ApiKeyRecord): Promise<void> {
  await db.query(
    `INSERT INTO api_keys (id, owner, hash, prefix, label, created_at, revoked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [key.id, key.owner, key.hash, key.prefix, key.label, key.createdAt, key.revokedAt],
  );
}
