import type { Lease } from '../store';
import { toDateOrNull } from './rows';
import { Params, type Row, type SqlSession } from './session';

/**
 * A table used as a queue of due work under leases: which rows are queued, and the columns that hold
 * each row's due time and its lease (owner, expiry, and an epoch that every claim bumps). The
 * generations' poll queue is one; durable jobs (video copies, webhook deliveries) can be others, each
 * with its own table, without copying the claim and lease SQL. Such a table wants a partial index on
 * its due column under the `queued` condition (as generations_due in migrations.ts): every claim and
 * every look at the next due time scans by it.
 */
export interface LeaseQueueTable {
  table: string;
  /** SQL condition on a row that makes it part of the queue at all (for example its status). */
  queued: string;
  columns: {
    /** The primary key (text). */
    id: string;
    /** When the row is due (timestamptz); null: not scheduled. */
    dueAt: string;
    leaseOwner: string;
    leaseUntil: string;
    leaseEpoch: string;
  };
  /**
   * SQL expression over a row naming the group it belongs to (a webhook's endpoint), for claims capped
   * per group (`claim`'s `maxPerGroup`); code-provided, like `queued`.
   */
  group?: string;
}

/** The lease columns a holder may set along with its own bookkeeping. */
export interface LeaseChange {
  dueAt?: Date | null;
  /** Set both to null to release the lease. */
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * The claim and lease SQL of one LeaseQueueTable. Every statement is PostgreSQL that PGlite runs too.
 * Table and column names are spliced into the SQL, so they must be plain identifiers from code.
 */
export class LeaseQueue {
  constructor(readonly t: LeaseQueueTable) {
    for (const name of [t.table, ...Object.values(t.columns)]) {
      if (!IDENTIFIER.test(name)) throw new Error(`lease queue: ${JSON.stringify(name)} is not a plain SQL identifier`);
    }
  }

  /**
   * Claims up to `limit` due rows (`dueAt <= now`) not leased by someone else (no lease, or an
   * expired one), leasing them to `owner` until `now + leaseMs` and bumping the epoch. FOR UPDATE
   * SKIP LOCKED: concurrent claimers never get the same row. Returns the claimed rows (RETURNING *),
   * most overdue first.
   *
   * With `maxPerGroup` (and the table's `group`), no group ends up with more than that many rows
   * leased, counting the rows that any claimer holds now: the rest of a busy group's rows stay
   * queued, and the limit goes to other groups' rows instead. Two claims at the same moment may each
   * fill a group up to the cap, as neither sees the other's leases.
   */
  async claim(db: SqlSession, owner: string, now: Date, leaseMs: number, limit: number, maxPerGroup?: number): Promise<Row[]> {
    if (limit <= 0) return [];
    const { table, queued, columns: c } = this.t;
    const claimable = `${queued}
           AND ${c.dueAt} IS NOT NULL AND ${c.dueAt} <= $3
           AND (${c.leaseUntil} IS NULL OR ${c.leaseUntil} < $3)`;
    const capped = maxPerGroup !== undefined && this.t.group !== undefined;
    // FOR UPDATE does not go with window functions, so the capped pick is made first and locked after,
    // re-checked under the lock.
    const candidates = capped
      ? `SELECT ${c.id} FROM ${table}
         WHERE ${c.id} IN (
           SELECT id FROM (
             SELECT q.${c.id} AS id, q.${c.dueAt} AS due,
               row_number() OVER (PARTITION BY q.grp ORDER BY q.${c.dueAt}, q.${c.id}) + COALESCE(busy.n, 0) AS place
             FROM (SELECT *, ${this.t.group} AS grp FROM ${table} WHERE ${claimable}) q
             LEFT JOIN (
               SELECT ${this.t.group} AS grp, count(*) AS n FROM ${table}
               WHERE ${queued} AND ${c.leaseUntil} >= $3 GROUP BY 1
             ) busy ON busy.grp = q.grp
           ) ranked
           WHERE place <= $5
           ORDER BY due
           LIMIT $4)
           AND ${claimable}
         FOR UPDATE SKIP LOCKED`
      : `SELECT ${c.id} FROM ${table}
         WHERE ${claimable}
         ORDER BY ${c.dueAt}
         LIMIT $4
         FOR UPDATE SKIP LOCKED`;
    const rows = await db.query(
      `UPDATE ${table} SET ${c.leaseOwner} = $1, ${c.leaseUntil} = $2, ${c.leaseEpoch} = ${c.leaseEpoch} + 1
       WHERE ${c.id} IN (${candidates})
       RETURNING *`,
      [owner, new Date(now.getTime() + leaseMs), now, limit, ...(capped ? [maxPerGroup] : [])],
    );
    // RETURNING keeps no order.
    const due = (row: Row) => toDateOrNull(row[c.dueAt])!.getTime();
    return rows.sort((a, b) => due(a) - due(b));
  }

  /**
   * Claims up to `limit` due rows like `claim`, but shares them out between groups (the table's
   * `group`, e.g. owners) instead of strictly by due time: among the `window` most overdue rows, each
   * group's rows take turns, a group's n-th row coming at turn n + `usedByGroup[group]` (what the
   * caller recently gave that group), ties going to the most overdue. A group with hundreds of
   * overdue rows thus cannot keep another group's few waiting. The window keeps the cost bounded
   * (an index scan of `window` rows, whatever the queue's length); a group whose rows all lie beyond
   * it waits for its turn by due time, as with `claim`. FOR UPDATE SKIP LOCKED, as `claim`.
   */
  async claimShared(
    db: SqlSession,
    owner: string,
    now: Date,
    leaseMs: number,
    limit: number,
    usedByGroup: Readonly<Record<string, number>>,
    window: number,
  ): Promise<Row[]> {
    if (limit <= 0) return [];
    const { table, queued, columns: c, group } = this.t;
    if (group === undefined) throw new Error(`lease queue ${table}: claimShared needs a group`);
    const claimable = `${queued}
           AND ${c.dueAt} IS NOT NULL AND ${c.dueAt} <= $3
           AND (${c.leaseUntil} IS NULL OR ${c.leaseUntil} < $3)`;
    const rows = await db.query(
      `UPDATE ${table} SET ${c.leaseOwner} = $1, ${c.leaseUntil} = $2, ${c.leaseEpoch} = ${c.leaseEpoch} + 1
       WHERE ${c.id} IN (
         SELECT ${c.id} FROM ${table}
         WHERE ${c.id} IN (
           SELECT id FROM (
             SELECT w.id, w.due,
               row_number() OVER (PARTITION BY w.grp ORDER BY w.due, w.id) + COALESCE((($5::jsonb) ->> w.grp)::int, 0) AS turn
             FROM (
               SELECT ${c.id} AS id, ${c.dueAt} AS due, ${group} AS grp FROM ${table}
               WHERE ${claimable}
               ORDER BY ${c.dueAt}
               LIMIT $6
             ) w
           ) ranked
           ORDER BY turn, due
           LIMIT $4)
           AND ${claimable}
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner, new Date(now.getTime() + leaseMs), now, limit, JSON.stringify(usedByGroup), window],
    );
    const due = (row: Row) => toDateOrNull(row[c.dueAt])!.getTime();
    return rows.sort((a, b) => due(a) - due(b));
  }

  /**
   * When the next queued row becomes claimable: its due time, or its lease expiry while it is leased.
   * Two index-sized lookups rather than one pass over the queue: the earliest unleased row by due time
   * (the due index, in order, stopping at the first), and the leased rows, which are few (at most the
   * claimers' concurrency, plus leases of a holder that died). A table that wants this cheap keeps a
   * partial index on its lease expiry too (as generations_leased).
   */
  async nextDueAt(db: SqlSession): Promise<Date | null> {
    const { table, queued, columns: c } = this.t;
    const rows = await db.query<{ due: unknown }>(
      // A leased row is being worked on right now; it is due again only if its lease runs out.
      `SELECT LEAST(
         (SELECT ${c.dueAt} FROM ${table}
          WHERE ${queued} AND ${c.dueAt} IS NOT NULL AND ${c.leaseUntil} IS NULL
          ORDER BY ${c.dueAt} LIMIT 1),
         (SELECT min(GREATEST(${c.dueAt}, ${c.leaseUntil})) FROM ${table}
          WHERE ${queued} AND ${c.dueAt} IS NOT NULL AND ${c.leaseUntil} IS NOT NULL)
       ) AS due`,
    );
    return toDateOrNull(rows[0]?.due);
  }

  /**
   * A WHERE condition: `lease` is still held. The owner alone is not enough, since the same instance
   * may have claimed the row again after its lease expired (a stalled holder). A release sets the
   * owner to null, which ends the lease too.
   */
  held(lease: Lease, params: Params): string {
    const c = this.t.columns;
    return `${c.leaseOwner} = ${params.add(lease.owner)}::text AND ${c.leaseEpoch} = ${params.add(lease.epoch)}::int`;
  }

  /** SET clauses for the lease columns; undefined leaves a column alone. */
  sets(change: LeaseChange, params: Params): string[] {
    const c = this.t.columns;
    const sets: string[] = [];
    if (change.dueAt !== undefined) sets.push(`${c.dueAt} = ${params.add(change.dueAt)}::timestamptz`);
    if (change.leaseOwner !== undefined) sets.push(`${c.leaseOwner} = ${params.add(change.leaseOwner)}::text`);
    if (change.leaseUntil !== undefined) sets.push(`${c.leaseUntil} = ${params.add(change.leaseUntil)}::timestamptz`);
    return sets;
  }

  /**
   * Applies `sets` (built with `params`) to row `id` only while `lease` is held: the holder's
   * bookkeeping, renewal or release. False when the lease is no longer held.
   */
  async updateHeld(db: SqlSession, id: string, lease: Lease, sets: readonly string[], params: Params): Promise<boolean> {
    const { table, columns: c } = this.t;
    const assignments = sets.length > 0 ? sets.join(', ') : `${c.leaseOwner} = ${c.leaseOwner}`;
    const rows = await db.query(
      `UPDATE ${table} SET ${assignments}
       WHERE ${c.id} = ${params.add(id)} AND ${this.held(lease, params)}
       RETURNING ${c.id}`,
      params.values,
    );
    return rows.length > 0;
  }

  /**
   * Releases many of `owner`'s leases in one statement: each row's lease ends and its due time (and
   * `extra` columns, plain identifiers from code) is set from the arrays (element i for `leases[i]`),
   * only while that lease (owner and epoch) is held. Returns the ids released.
   */
  async releaseHeld(
    db: SqlSession,
    owner: string,
    leases: ReadonlyArray<{ id: string; epoch: number }>,
    values: { dueAt: readonly string[]; extra: ReadonlyArray<{ column: string; type: 'int' | 'text'; values: readonly unknown[] }> },
  ): Promise<string[]> {
    const { table, columns: c } = this.t;
    for (const e of values.extra) {
      if (!IDENTIFIER.test(e.column)) throw new Error(`lease queue: ${JSON.stringify(e.column)} is not a plain SQL identifier`);
    }
    const extraSets = values.extra.map((e) => `, ${e.column} = r.${e.column}`).join('');
    const extraArrays = values.extra.map((e, i) => `, $${i + 5}::${e.type}[]`).join('');
    const extraNames = values.extra.map((e) => `, ${e.column}`).join('');
    const rows = await db.query<{ id: string }>(
      `UPDATE ${table} q SET ${c.dueAt} = r.due, ${c.leaseOwner} = NULL, ${c.leaseUntil} = NULL${extraSets}
       FROM unnest($2::text[], $3::int[], $4::timestamptz[]${extraArrays}) AS r(id, epoch, due${extraNames})
       WHERE q.${c.id} = r.id AND q.${c.leaseOwner} = $1 AND q.${c.leaseEpoch} = r.epoch
       RETURNING q.${c.id} AS id`,
      [owner, leases.map((l) => l.id), leases.map((l) => l.epoch), values.dueAt, ...values.extra.map((e) => e.values)],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Ends every lease on queued rows, so they are claimable at once. Only for a holder-less moment: a
   * process alone on its database (the embedded store's locked data folder) at start, when every
   * lease is its dead predecessor's. Returns how many were released.
   */
  async releaseAll(db: SqlSession): Promise<number> {
    const { table, queued, columns: c } = this.t;
    const rows = await db.query(
      `UPDATE ${table} SET ${c.leaseOwner} = NULL, ${c.leaseUntil} = NULL
       WHERE ${queued} AND ${c.leaseOwner} IS NOT NULL
       RETURNING ${c.id}`,
    );
    return rows.length;
  }
}
