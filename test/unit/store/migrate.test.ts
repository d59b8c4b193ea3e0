import pg from 'pg';
import { migrations } from '../../../src/store/migrations';
import { pgDriver } from '../../../src/store/pg-store';
import { createInMemoryPglite } from '../../../src/store/pglite-template';
import { pgliteDriver } from '../../../src/store/pglite-driver';
import { MIGRATION_LOCK_KEY, migrate } from '../../../src/store/sql/migrate';
import type { SqlDriver } from '../../../src/store/sql/session';
import { describeWithServices, startPostgres, type PostgresServer } from '../../helpers/services';
import { within } from '../../helpers/within';

const appliedIds = async (db: SqlDriver) => (await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id);

describe('migrate on PGlite', () => {
  it('applies what is pending, and a later run with nothing pending changes nothing', async () => {
    const db = pgliteDriver(await createInMemoryPglite());
    try {
      await migrate(
        db,
        migrations.filter((m) => m.id !== migrations.at(-1)!.id),
      );
      expect(await appliedIds(db)).not.toContain(migrations.at(-1)!.id);
      await migrate(db, migrations);
      const all = await appliedIds(db);
      expect(all).toEqual(migrations.map((m) => m.id).sort());
      await migrate(db, migrations);
      expect(await appliedIds(db)).toEqual(all);
    } finally {
      await db.close();
    }
  });
});

describeWithServices('migrate on PostgreSQL', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
  });

  /** Runs `fn` while another connection holds the migrations' lock, as a second instance migrating would. */
  async function whileLocked<T>(fn: () => Promise<T>): Promise<T> {
    const holder = new pg.Client({ connectionString: server.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      return await fn();
    } finally {
      await holder.end();
    }
  }

  it('a start with nothing pending does not wait for the lock; one with something pending does', async () => {
    const db = pgDriver({ connectionString: server.url });
    try {
      await migrate(db, migrations);
      // Nothing pending: done while the lock is held elsewhere.
      await whileLocked(() => migrate(db, migrations));
      // Something pending: waits until the holder lets go, then applies it once.
      const extra = { id: '9999_test_extra', sql: 'CREATE TABLE migrate_test_extra (id int)' };
      let finished = false;
      let running!: Promise<unknown>;
      await whileLocked(async () => {
        running = migrate(db, [...migrations, extra]).then(() => (finished = true));
        running.catch(() => undefined); // awaited below, once the lock is let go
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(finished).toBe(false);
      });
      await within('the pending migration once the lock is let go', running, 10_000);
      expect(await appliedIds(db)).toContain(extra.id);
    } finally {
      await db.close();
    }
  }, 60_000);
});
