import type { SqlSession } from '../session';

/** Already revoked keys keep their first revocation time and are not counted. See ApiKeyRecords.revokeApiKey. */
export async function revokeApiKey(db: SqlSession, idOrPrefix: string, at: Date): Promise<number> {
  const rows = await db.query(
    `UPDATE api_keys SET revoked_at = $2
     WHERE (id = $1 OR prefix = $1) AND revoked_at IS NULL
     RETURNING id`,
    [idOrPrefix, at],
  );
  return rows.length;
}
