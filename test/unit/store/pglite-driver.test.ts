/**
 * The embedded database's driver keeps statements prepared: what a caller gets must be what PGlite's own
 * `query()` gives, through schema changes, many distinct statements, and open transactions.
 */
import type { PGlite } from '@electric-sql/pglite';
import { pgliteDriver } from '../../../src/store/pglite-driver';
import { createInMemoryPglite } from '../../../src/store/pglite-template';
import type { SqlDriver } from '../../../src/store/sql/session';

describe('the PGlite driver', () => {
  let pglite: PGlite;
  let db: SqlDriver;

  beforeEach(async () => {
    pglite = await createInMemoryPglite();
    db = pgliteDriver(pglite);
    await db.exec(`CREATE TABLE t (id text PRIMARY KEY, at timestamptz, doc jsonb, tags text[], n int)`);
  });

  afterEach(async () => {
    await db.close();
  });

  it('returns what PGlite itself returns, for every parameter type, each time a statement runs', async () => {
    const insert = 'INSERT INTO t (id, at, doc, tags, n) VALUES ($1, $2, $3, $4::text[], $5) RETURNING *';
    const at = new Date('2026-12-03T10:00:00.123Z');
    for (let i = 0; i < 7; i++) {
      const [row] = await db.query(insert, [`r${i}`, at, JSON.stringify({ i, nested: { ok: true } }), ['a', `b${i}`], i === 3 ? null : i]);
      expect(row).toEqual({ id: `r${i}`, at, doc: { i, nested: { ok: true } }, tags: ['a', `b${i}`], n: i === 3 ? null : i });
    }
    const select = 'SELECT * FROM t WHERE n >= $1 OR n IS NULL ORDER BY id';
    const own = (await pglite.query(select, [2])).rows;
    for (let i = 0; i < 7; i++) expect(await db.query(select, [2])).toEqual(own);
    // Run again and again, it is one prepared statement, not one per call.
    const prepared = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1`, [select]);
    expect(prepared).toEqual([{ n: 1 }]);
  });

  it('reports SQL errors with their SQLSTATE, and goes on working after them', async () => {
    await db.query('INSERT INTO t (id) VALUES ($1)', ['dup']);
    await expect(db.query('INSERT INTO t (id) VALUES ($1)', ['dup'])).rejects.toMatchObject({ code: '23505' });
    await expect(db.query('SELEC nonsense')).rejects.toMatchObject({ code: '42601' });
    await expect(db.query('SELECT $1::int AS n', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
    expect(await db.query('SELECT $1::int AS n', ['5'])).toEqual([{ n: 5 }]);
  });

  it('prepares a statement anew when a schema change alters the columns it returns', async () => {
    await db.query('INSERT INTO t (id) VALUES ($1)', ['x']);
    const select = 'SELECT * FROM t WHERE id = $1';
    expect(Object.keys((await db.query(select, ['x']))[0]!)).not.toContain('extra');
    await db.exec(`ALTER TABLE t ADD COLUMN extra text DEFAULT 'new'`);
    expect(await db.query(select, ['x'])).toEqual([expect.objectContaining({ id: 'x', extra: 'new' })]);
  });

  it('keeps at most 200 statements prepared, and still runs the ones it closed', async () => {
    for (let i = 0; i < 250; i++) expect(await db.query(`SELECT ${i} + $1::int AS n`, [1])).toEqual([{ n: i + 1 }]);
    const [count] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements');
    expect(count!.n).toBeLessThanOrEqual(200);
    expect(await db.query(`SELECT 0 + $1::int AS n`, [1])).toEqual([{ n: 1 }]);
  });

  it('never runs a statement inside a transaction that another caller holds open', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedInside = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id) VALUES ($1)', ['in-tx']);
      inserted();
      await held;
      throw new Error('roll back');
    });
    await insertedInside;
    // Waits for the transaction to end instead of running inside it (where it would see the row).
    const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE id = $1', ['in-tx']);
    release();
    await expect(transaction).rejects.toThrow('roll back');
    expect(await outside).toEqual([{ n: 0 }]);
  });
});
