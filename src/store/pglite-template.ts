/**
 * A new in-memory PGlite database runs initdb first: about 3 s of CPU. Loading a saved copy of a
 * freshly initialised data folder takes about 0.5 s. Tests and benchmarks start many in-memory
 * gateways, so the first one saves its pristine folder (before any migration: it holds no data)
 * under node_modules/.cache, keyed by PGlite's version, and the later ones load it. Where the
 * cache cannot be read or written (a read-only install), a database is simply initialised anew.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { templatePath } from './pglite-template-path';

export { templatePath };

/**
 * A new in-memory database, from the saved template when there is one. `file` is where the template
 * is kept: by default templatePath(), which a bundled copy of this module (the database thread run
 * from sources) cannot work out itself.
 */
export async function createInMemoryPglite(file: string | null = templatePath(), options: PGliteOptions = {}): Promise<PGlite> {
  const saved = file ? await readFile(file).catch(() => null) : null;
  if (saved) {
    try {
      return await PGlite.create({ ...options, loadDataDir: new Blob([saved]) });
    } catch {
      // An unreadable template (a write cut short): initialise anew and save a good one below.
    }
  }
  const db = await PGlite.create(options);
  if (file) await save(db, file).catch(() => undefined);
  return db;
}

async function save(db: PGlite, file: string): Promise<void> {
  const dump = await db.dumpDataDir('none');
  await mkdir(path.dirname(file), { recursive: true });
  // Written aside, then renamed: another process never reads half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, file);
}
