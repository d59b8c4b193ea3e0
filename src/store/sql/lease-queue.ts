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

  /** When the next queued row becomes claimable: its due time, or its lease expiry while it is leased. */
  async nextDueAt(db: SqlSession): Promise<Date | null> {
    const { table, queued, columns: c } = this.t;
    const rows = await db.query<{ due: unknown }>(
      // A leased row is being worked on right now; it is due again only if its lease runs out.
      `SELECT min(GREATEST(${c.dueAt}, COALESCE(${c.leaseUntil}, ${c.dueAt}))) AS due FROM ${table}
       WHERE ${queued} AND ${c.dueAt} IS NOT NULL`,
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
}
