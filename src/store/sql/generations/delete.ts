import type { SqlSession } from '../session';

/** See GenerationRecords.deleteGeneration. */
export async function deleteGeneration(db: SqlSession, id: string): Promise<void> {
  await db.query('DELETE FROM generations WHERE id = $1', [id]);
}
