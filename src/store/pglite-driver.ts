import { parse, protocol, type PGlite, type Transaction } from '@electric-sql/pglite';
import type { Row, SqlDriver, SqlSession } from './sql/session';

/**
 * PGlite has a single connection and queues every call; its `transaction()` holds that queue until
 * the callback settles, so queries from elsewhere wait rather than land inside someone's transaction.
 * Inside the callback only `tx` may be used: the outer handle would wait for the transaction forever.
 * This runs on whichever thread holds the PGlite instance (the database thread, see pglite-thread.ts).
 *
 * Statements outside a transaction are kept prepared (PreparedStatements): the same few statements
 * run again and again (the poller's claim and release, reads by id), and PGlite's `query()` parses,
 * analyses and describes each anew, in six calls into WebAssembly.
 */
export function pgliteDriver(db: PGlite): SqlDriver {
  const prepared = new PreparedStatements(db);
  return {
    query: (sql, params) => prepared.query(sql, params),
    exec: (sql) => session(db).exec(sql),
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

/** Statements kept prepared at once; beyond it the least recently used is closed (count). */
const MAX_PREPARED = 200;

interface Prepared {
  name: string;
  /** The parameters' type ids, as the server inferred them: they pick each value's serializer. */
  paramTypes: number[];
}

/**
 * Named prepared statements over PGlite's wire protocol, one per distinct SQL text: a statement seen
 * before is only bound and executed, in one call. PostgreSQL plans its first five runs with their
 * parameters, and may then keep a generic plan, as for any prepared statement (`plan_cache_mode` is
 * left at its default). Like `query()`, each call waits for any open transaction and holds the
 * connection for its own protocol exchange, so it never runs inside someone's transaction.
 */
class PreparedStatements {
  /** By SQL text, least recently used first (a Map keeps insertion order; a hit re-inserts). */
  private readonly statements = new Map<string, Prepared>();
  private nextName = 0;

  constructor(private readonly db: PGlite) {}

  query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.db._runExclusiveTransaction(() =>
      this.db.runExclusive(async () => {
        try {
          return await this.run<T>(sql, params);
        } catch (err) {
          if (!isStaleResultType(err)) throw err;
          // A migration changed a table a `SELECT *` or `RETURNING *` had been prepared for: prepare anew.
          await this.forget(sql);
          return this.run<T>(sql, params);
        }
      }),
    );
  }

  private async run<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const statement = this.statements.get(sql) ?? (await this.prepare(sql));
    this.statements.delete(sql);
    this.statements.set(sql, statement);
    const values = params.map((value, i) => this.serialize(toPgliteParam(value), statement.paramTypes[i]));
    const { messages } = await this.db.execProtocol(
      concat([
        protocol.serialize.bind({ statement: statement.name, values }),
        protocol.serialize.describe({ type: 'P' }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
    );
    return (parse.parseResults(messages, this.db.parsers)[0]?.rows ?? []) as T[];
  }

  private async prepare(sql: string): Promise<Prepared> {
    const oldest = this.statements.size >= MAX_PREPARED ? this.statements.keys().next().value : undefined;
    if (oldest !== undefined) await this.forget(oldest);
    const name = `gateway_${this.nextName++}`;
    const { messages } = await this.db.execProtocol(
      concat([protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()]),
      { syncToFs: false },
    );
    const prepared = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    this.statements.set(sql, prepared);
    return prepared;
  }

  /** Closes the statement prepared for `sql`, if any. */
  private async forget(sql: string): Promise<void> {
    const statement = this.statements.get(sql);
    if (!statement) return;
    this.statements.delete(sql);
    await this.db.execProtocol(concat([protocol.serialize.close({ type: 'S', name: statement.name }), protocol.serialize.sync()]), {
      syncToFs: false,
    });
  }

  /** As PGlite's `query()` does: null stays null, a type's serializer where it has one, else text. */
  private serialize(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = type === undefined ? undefined : this.db.serializers[type];
    return serializer ? (serializer(value) as string) : String(value);
  }
}

/** PostgreSQL's refusal to run a prepared statement whose result columns changed since it was prepared. */
function isStaleResultType(err: unknown): boolean {
  return (err as { code?: string })?.code === '0A000' && /cached plan must not change result type/.test(String((err as Error)?.message));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}
