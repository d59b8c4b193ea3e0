/**
 * The embedded database on its own thread: the gateway's event loop keeps turning while a heavy query
 * runs (on the main thread, as before issue 14, it stopped for the whole query), transactions keep
 * their isolation across the thread boundary, errors keep their SQLSTATE, and a closed or dead thread
 * fails calls instead of hanging them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pgliteDriver } from '../../../src/store/pglite-driver';
import { createInMemoryPglite, templatePath } from '../../../src/store/pglite-template';
import { initialisePgliteDataDir, openPgliteThread } from '../../../src/store/pglite-thread';
import type { SqlDriver } from '../../../src/store/sql/session';

/** CPU-bound for a while in PGlite (about a second on a loaded 2-core machine), no table needed. */
const HEAVY = `SELECT sum(length(md5(i::text)))::int AS n FROM generate_series(1, 400000) AS i`;

/**
 * Runs `heavy` and watches the event loop meanwhile: how often a 5 ms timer ran, the longest stall, and
 * how long the query took.
 */
async function loopDuring(heavy: () => Promise<unknown>): Promise<{ turns: number; maxStallMs: number; queryMs: number }> {
  let last = performance.now();
  let turns = 0;
  let maxStallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    turns += 1;
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    await heavy();
    // A loop that never turned during the query never ran the ticker: the stall ends here.
    maxStallMs = Math.max(maxStallMs, performance.now() - last);
  } finally {
    clearInterval(ticker);
  }
  return { turns, maxStallMs, queryMs: performance.now() - started };
}

describe('PGlite on its own thread', () => {
  let db: SqlDriver;

  beforeAll(async () => {
    db = await openPgliteThread({ templateFile: templatePath() });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it('keeps the event loop turning while a heavy query runs', async () => {
    const { turns, maxStallMs, queryMs } = await loopDuring(() => db.query(HEAVY));
    // Long enough that a blocked loop could not hide.
    expect(queryMs).toBeGreaterThan(300);
    // Relative to the query, not in milliseconds: a loaded machine slows the query and the loop's
    // timers alike, while the query on the main thread stops the loop for all of it (the test below).
    // (The p99 target of 20 ms is a speed figure, for a bench on a quiet machine.)
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(maxStallMs).toBeLessThan(queryMs / 2);
  }, 60_000);

  it('stalls the event loop for the whole query when PGlite runs on the main thread (as before)', async () => {
    const inline = pgliteDriver(await createInMemoryPglite());
    try {
      const { maxStallMs, queryMs } = await loopDuring(() => inline.query(HEAVY));
      expect(queryMs).toBeGreaterThan(300);
      expect(maxStallMs).toBeGreaterThan(queryMs * 0.8);
    } finally {
      await inline.close();
    }
  }, 60_000);

  it('returns rows as PGlite makes them: dates, JSON, numbers', async () => {
    const [row] = await db.query<{ at: Date; doc: unknown; n: number; nothing: null }>(
      `SELECT $1::timestamptz AS at, '{"a":[1,"b"]}'::jsonb AS doc, 42 AS n, NULL AS nothing`,
      [new Date('2025-01-02T03:04:05.678Z')],
    );
    expect(row!.at.toISOString()).toBe('2025-01-02T03:04:05.678Z');
    expect(row!.doc).toEqual({ a: [1, 'b'] });
    expect(row!.n).toBe(42);
    expect(row!.nothing).toBeNull();
  });

  it('keeps the SQLSTATE of a failed statement', async () => {
    await db.exec('CREATE TABLE uniq (k text PRIMARY KEY)');
    await db.query(`INSERT INTO uniq VALUES ('a')`);
    await expect(db.query(`INSERT INTO uniq VALUES ('a')`)).rejects.toMatchObject({
      code: '23505',
      message: expect.stringContaining('duplicate key'),
    });
  });

  it('commits a transaction, rolls one back on a throw, and keeps other queries out of it', async () => {
    await db.exec('CREATE TABLE counter (n int)');
    await db.query('INSERT INTO counter VALUES (0)');
    let outsideSaw: number | null = null;
    await db.transaction(async (tx) => {
      await tx.query('UPDATE counter SET n = 1');
      // Sent meanwhile from outside: it waits for the transaction, so it sees the committed 1.
      const outside = db.query<{ n: number }>('SELECT n FROM counter').then(([r]) => (outsideSaw = r!.n));
      await tx.query('UPDATE counter SET n = 2');
      expect(outsideSaw).toBeNull();
      void outside;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(outsideSaw).toBe(2);

    await expect(
      db.transaction(async (tx) => {
        await tx.query('UPDATE counter SET n = 99');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.query('SELECT n FROM counter')).toEqual([{ n: 2 }]);

    // A failing statement inside rolls the whole transaction back too.
    await expect(
      db.transaction(async (tx) => {
        await tx.query('UPDATE counter SET n = 7');
        await tx.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toMatchObject({ code: '42P01' });
    expect(await db.query('SELECT n FROM counter')).toEqual([{ n: 2 }]);
  });

  it('fails calls after close instead of hanging them', async () => {
    const closing = await openPgliteThread({ templateFile: templatePath() });
    await closing.query('SELECT 1');
    await closing.close();
    await expect(closing.query('SELECT 1')).rejects.toThrow(/thread exited/);
  }, 60_000);

  // The embedded default's idle memory (issue 14): PGlite's 128 MB of shared_buffers stay in its WASM
  // memory once touched. The setting is a start-up parameter, so a data folder opens with either value.
  it('opens a data folder with the shared_buffers asked for, keeping its rows, and with the default again after', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pglite-shared-buffers-'));
    try {
      await initialisePgliteDataDir(dataDir);
      const small = await openPgliteThread({ dataDir, templateFile: null, sharedBuffersMb: 16 });
      try {
        expect(await small.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '16MB' }]);
        await small.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);');
      } finally {
        await small.close();
      }
      const usual = await openPgliteThread({ dataDir, templateFile: null });
      try {
        expect(await usual.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '128MB' }]);
        expect(await usual.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
      } finally {
        await usual.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  // initdb runs in a process of its own (its memory leaves with it): a failure there reaches the caller with its reason.
  it('reports a data folder that cannot be initialised with the reason, from the initialising process', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pglite-init-fails-'));
    try {
      const notAFolder = path.join(dir, 'a-file');
      await writeFile(notAFolder, 'not a folder');
      await expect(initialisePgliteDataDir(path.join(notAFolder, 'data'))).rejects.toThrow(
        /^initialising the embedded database in .*a-file\/data failed \(exit code 1\): \S/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
