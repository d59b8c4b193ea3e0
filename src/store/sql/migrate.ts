import type { Migration } from '../migrations';
import type { SqlDriver } from './session';

/** The advisory lock migrations run under. Any constant works, as long as every process uses the same one. */
export const MIGRATION_LOCK_KEY = 7_364_201_911;

/** PostgreSQL's "undefined_table": a database no migration has touched yet. */
const UNDEFINED_TABLE = '42P01';

/**
 * Applies the pending `migrations` in one transaction under an advisory lock: several processes
 * starting at once queue on the lock, and each later one finds the migrations already recorded.
 * (PGlite supports pg_advisory_xact_lock; being single-connection, it never waits there.)
 * A start with nothing pending (nearly every start) only reads the record, without the lock: a recorded
 * migration is never undone, so what the read finds applied stays applied. On the embedded store that
 * read is ~50 ms less to ready than the transaction.
 */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[]): Promise<void> {
  if (await allApplied(driver, migrations)) return;
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

async function allApplied(driver: SqlDriver, migrations: readonly Migration[]): Promise<boolean> {
  let rows: { id: string }[];
  try {
    rows = await driver.query<{ id: string }>('SELECT id FROM schema_migrations');
  } catch (err) {
    if ((err as { code?: unknown }).code === UNDEFINED_TABLE) return false;
    throw err;
  }
  const applied = new Set(rows.map((row) => row.id));
  return migrations.every((m) => applied.has(m.id));
}
