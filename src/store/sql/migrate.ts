import type { Migration } from '../migrations';
import type { SqlDriver } from './session';

/** Any constant works, as long as every process uses the same one. */
const MIGRATION_LOCK_KEY = 7_364_201_911;

/**
 * Applies the pending `migrations` in one transaction under an advisory lock: several processes
 * starting at once queue on the lock, and each later one finds the migrations already recorded.
 * (PGlite supports pg_advisory_xact_lock; being single-connection, it never waits there.)
 */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[]): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = new Set((await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).map((row) => row.id));
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
    }
  });
}
