import type { ApiKeyRecord } from '../../store';
import { toApiKey } from '../rows';
import type { SqlSession } from '../session';

export async function findApiKeyByHash(db: SqlSession, hash: string): Promise<ApiKeyRecord | null> {
  const rows = await db.query('SELECT * FROM api_keys WHERE hash = $1', [hash]);
  return rows[0] ? toApiKey(rows[0]) : null;
}

export async function listApiKeys(db: SqlSession): Promise<ApiKeyRecord[]> {
  const rows = await db.query('SELECT * FROM api_keys ORDER BY created_at, id');
  return rows.map(toApiKey);
}
