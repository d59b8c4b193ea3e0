/** One connection's worth of SQL: PostgreSQL text with $1 parameters. */
export interface SqlSession {
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a parameterless script of several statements (migrations need this; `query` takes one). */
  exec(sql: string): Promise<void>;
}

/**
 * The little a store needs from a database client, so PGlite and `pg` can both sit under SqlStore.
 * A driver must not let other queries interleave with a running transaction.
 */
export interface SqlDriver extends SqlSession {
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type Row = Record<string, unknown>;

/** Collects positional parameters while a statement is assembled. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** JSON travels as text and is cast, so drivers never apply their own array/object encoding. */
export function jsonParam(value: unknown, params: Params): string {
  return value === null ? 'NULL' : `${params.add(JSON.stringify(value))}::jsonb`;
}
