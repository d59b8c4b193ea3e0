import type { Logger } from 'pino';
import type Pg from 'pg';
import { toStoreError } from './database-unavailable';
import { loadPg } from './pg-package';
import { SqlStore } from './sql-store';
import type { Row, SqlDriver, SqlSession } from './sql/session';
import type { Store } from './store';

const pg = loadPg();

export interface PgStoreOptions {
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** Most pooled connections. Default 10. */
  poolSize?: number;
  /** Longest wait for a connection before a query fails as DATABASE_UNAVAILABLE, in ms. Default 5000. */
  connectTimeoutMs?: number;
  log?: Logger;
}

/** The store on a real PostgreSQL server: the same SqlStore (same SQL, same migrations) as the embedded one. */
export function createPgStore(options: PgStoreOptions): Store {
  return new SqlStore(async () => pgDriver(options));
}

export function pgDriver(options: PgStoreOptions): SqlDriver {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle pooled connection that dies (a PostgreSQL restart) is reported here. Without a listener
  // the pool's 'error' event would crash the process; the pool already dropped the client and opens
  // a new one on the next query.
  pool.on('error', (err) => options.log?.warn({ err }, 'idle database connection lost; the pool will reconnect'));
  return {
    ...session(pool),
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      const client = await pool.connect().catch((err: unknown) => {
        throw toStoreError(err);
      });
      let broken: unknown;
      // A connection lost between two statements of the transaction is reported as an 'error' event
      // on the checked-out client (the pool only listens while it is idle): without a listener, a crash.
      const onLost = (err: Error) => {
        broken = err;
      };
      client.on('error', onLost);
      try {
        await client.query('BEGIN');
        const result = await fn(session(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
        throw toStoreError(err);
      } finally {
        client.off('error', onLost);
        // A lost connection, or one that could not even roll back, is destroyed rather than reused.
        client.release(broken !== undefined);
      }
    },
    close: () => pool.end(),
  };
}

function session(db: Pg.Pool | Pg.PoolClient): SqlSession {
  return {
    async query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      try {
        const result = await db.query(sql, params as unknown[] | undefined);
        return result.rows as T[];
      } catch (err) {
        throw toStoreError(err);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        // Without parameters pg uses the simple protocol, which runs several statements at once.
        await db.query(sql);
      } catch (err) {
        throw toStoreError(err);
      }
    },
  };
}
