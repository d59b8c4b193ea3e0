import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Row, SqlDriver, SqlSession } from './sql/session';

/**
 * PGlite has a single connection and queues every call; its `transaction()` holds that queue until
 * the callback settles, so queries from elsewhere wait rather than land inside someone's transaction.
 * Inside the callback only `tx` may be used: the outer handle would wait for the transaction forever.
 * This runs on whichever thread holds the PGlite instance (the database thread, see pglite-thread.ts).
 */
export function pgliteDriver(db: PGlite): SqlDriver {
  return {
    ...session(db),
    transaction: (fn) => db.transaction((tx) => fn(session(tx))),
    close: () => db.close(),
  };
}

function session(db: PGlite | Transaction): SqlSession {
  return {
    async query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const result = await db.query<T>(sql, params?.map(toPgliteParam));
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
  };
}

/**
 * Dates go as ISO text (the SQL casts or infers timestamptz): PGlite only recognises a Date made in its
 * own realm, and under jest the caller's Dates come from the test sandbox.
 */
function toPgliteParam(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}
