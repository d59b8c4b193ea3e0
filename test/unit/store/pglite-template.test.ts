import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInMemoryPglite, templatePath } from '../../../src/store/pglite-template';

const template = (): string => templatePath()!;

describe('in-memory PGlite from a saved template', () => {
  // Each test opens PGlite two or three times (initdb for a new template): minutes on a loaded machine.
  it('gives each database its own data, and keeps the template free of it', async () => {
    const a = await createInMemoryPglite();
    await a.exec('CREATE TABLE mine (v text); INSERT INTO mine VALUES ($$a$$)');
    expect(existsSync(template())).toBe(true);
    const b = await createInMemoryPglite();
    const tables = await b.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'mine'`);
    expect(tables.rows[0]!.n).toBe(0);
    expect((await a.query<{ v: string }>('SELECT v FROM mine')).rows).toEqual([{ v: 'a' }]);
    await Promise.all([a.close(), b.close()]);
  }, 120_000);

  it('starts anew from a damaged template, and saves a good one again', async () => {
    await createInMemoryPglite().then((db) => db.close()); // the template exists
    await writeFile(template(), 'not a tar');
    const db = await createInMemoryPglite();
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await db.close();
    const again = await createInMemoryPglite();
    expect((await again.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await again.close();
  }, 120_000);
});
