import {
  GenerationStatus,
  type Generation,
  type GenerationError,
  type GenerationInput,
  type GenerationState,
  type GenerationVideo,
  type Transition,
  type Usage,
} from '../model/generation';
import { ListPageCache } from './list-page-cache';
import { migrations as defaultMigrations, type Migration } from './migrations';
import type { ApiKeyRecord, GenerationKey, Lease, ListQuery, NewGeneration, PollBookkeeping, Store, UsageGroup } from './store';

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

/** Any constant works, as long as every process uses the same one. */
const MIGRATION_LOCK_KEY = 7_364_201_911;

const IN_FLIGHT = `('${GenerationStatus.QUEUED}', '${GenerationStatus.GENERATING}')`;

/**
 * The Store over plain PostgreSQL. All SQL of the gateway lives here, so the embedded store and the
 * PostgreSQL one cannot drift apart.
 */
export class SqlStore implements Store {
  private driver: SqlDriver | null = null;
  private readonly listPages: ListPageCache | null;

  /**
   * `open` is called by `start()`, so a stopped store can be started again. `options.cacheListPages`
   * (default false) keeps list pages in memory until the owner's generations change: only for a
   * database this process alone writes to (see ListPageCache).
   */
  constructor(
    private readonly open: () => Promise<SqlDriver>,
    private readonly migrations: readonly Migration[] = defaultMigrations,
    options: { cacheListPages?: boolean } = {},
  ) {
    this.listPages = options.cacheListPages ? new ListPageCache() : null;
  }

  async start(): Promise<void> {
    if (this.driver) return;
    const driver = await this.open();
    try {
      await this.migrate(driver);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
    this.driver = driver;
  }

  async stop(): Promise<void> {
    const driver = this.driver;
    this.driver = null;
    await driver?.close();
  }

  async ping(): Promise<void> {
    await this.db().query('SELECT 1');
  }

  async insertGeneration(g: NewGeneration): Promise<{ inserted: boolean; generation: Generation }> {
    try {
      return await this.insertGenerationRow(g);
    } finally {
      this.listPages?.changed(g.owner);
    }
  }

  private async insertGenerationRow(g: NewGeneration): Promise<{ inserted: boolean; generation: Generation }> {
    const transitions: Transition[] = [{ status: g.status, upstreamStatus: null, at: g.createdAt }];
    // A concurrent insert with the same key may also be a concurrent delete of it (a rejected create),
    // so the existing row can vanish between the two statements: try again a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const rows = await this.db().query(
        `INSERT INTO generations (
           id, owner, model, input, input_hash, idempotency_key, status,
           created_at, updated_at, deadline_at, version, transitions, poll_count, poll_failures
         ) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $8, $9, 1, $10::jsonb, 0, 0)
         ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING *`,
        [
          g.id,
          g.owner,
          g.input.model,
          JSON.stringify(g.input),
          g.inputHash,
          g.idempotencyKey,
          g.status,
          g.createdAt,
          g.deadlineAt,
          JSON.stringify(transitions),
        ],
      );
      if (rows[0]) return { inserted: true, generation: toGeneration(rows[0]) };
      const existing = g.idempotencyKey === null ? null : await this.findByIdempotencyKey(g.owner, g.idempotencyKey);
      if (existing) return { inserted: false, generation: existing };
    }
    throw new Error(`could not insert generation ${g.id}: its idempotency key keeps conflicting`);
  }

  async getGenerations(owner: string, ids: readonly string[]): Promise<Generation[]> {
    if (ids.length === 0) return [];
    const rows = await this.db().query('SELECT * FROM generations WHERE owner = $1 AND id = ANY($2::text[])', [
      owner,
      [...ids],
    ]);
    return rows.map(toGeneration);
  }

  async getGeneration(id: string): Promise<Generation | null> {
    const rows = await this.db().query('SELECT * FROM generations WHERE id = $1', [id]);
    return rows[0] ? toGeneration(rows[0]) : null;
  }

  async findByIdempotencyKey(owner: string, key: string): Promise<Generation | null> {
    const rows = await this.db().query('SELECT * FROM generations WHERE owner = $1 AND idempotency_key = $2', [
      owner,
      key,
    ]);
    return rows[0] ? toGeneration(rows[0]) : null;
  }

  /** An empty `statuses` or `models` list means no filter, like an absent one. */
  async listGenerations(query: ListQuery): Promise<Generation[]> {
    return (await this.listRows('*', query)).map(toGeneration);
  }

  async listGenerationKeys(query: ListQuery): Promise<readonly GenerationKey[]> {
    const read = async () => (await this.listRows('id, version', query)).map((r) => ({ id: String(r.id), version: Number(r.version) }));
    return this.listPages ? this.listPages.page(query, read) : read();
  }

  /** One page of the owner's rows, newest first, with only the `columns` asked for. */
  private async listRows(columns: string, query: ListQuery): Promise<Row[]> {
    const params = new Params();
    const where = [`owner = ${params.add(query.owner)}`];
    if (query.before) {
      where.push(
        `(created_at, id) < (${params.add(query.before.createdAt)}::timestamptz, ${params.add(query.before.id)}::text)`,
      );
    }
    if (query.statuses && query.statuses.length > 0) {
      where.push(`status = ANY(${params.add([...query.statuses])}::text[])`);
    }
    if (query.models && query.models.length > 0) {
      where.push(`model = ANY(${params.add([...query.models])}::text[])`);
    }
    return this.db().query(
      `SELECT ${columns} FROM generations WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT ${params.add(Math.max(0, query.limit))}`,
      params.values,
    );
  }

  async changedSince(owner: string, since: Date, limit: number): Promise<Generation[]> {
    const rows = await this.db().query(
      `SELECT * FROM (
         SELECT * FROM generations WHERE owner = $1 AND updated_at >= $2::timestamptz ORDER BY updated_at DESC LIMIT $3
       ) AS recent ORDER BY updated_at, id`,
      [owner, since, Math.max(0, limit)],
    );
    return rows.map(toGeneration);
  }

  async updateGeneration(
    id: string,
    expectedVersion: number,
    change: Partial<GenerationState>,
    bookkeeping: PollBookkeeping = {},
    at: Date = new Date(),
    lease?: Lease,
  ): Promise<Generation | null> {
    let updated: Generation | null;
    try {
      updated = await this.updateGenerationRow(id, expectedVersion, change, bookkeeping, at, lease);
    } catch (err) {
      this.listPages?.changed(null);
      throw err;
    }
    // No row: the version did not match, nothing changed.
    if (updated) this.listPages?.changed(updated.owner);
    return updated;
  }

  private async updateGenerationRow(
    id: string,
    expectedVersion: number,
    change: Partial<GenerationState>,
    bookkeeping: PollBookkeeping,
    at: Date,
    lease: Lease | undefined,
  ): Promise<Generation | null> {
    const params = new Params();
    const sets = [...stateSets(change, params), ...bookkeepingSets(bookkeeping, params)];
    sets.push('version = version + 1', `updated_at = ${params.add(at)}::timestamptz`);
    if (change.status !== undefined) {
      // SET expressions see the row as it was, so `status` and `upstream_status` here are the old values:
      // a single statement decides and appends the transition without a read-modify-write race.
      const status = params.add(change.status);
      const upstreamStatus = params.add(change.upstreamStatus ?? null);
      sets.push(
        `transitions = CASE WHEN status IS DISTINCT FROM ${status}::text
           THEN transitions || jsonb_build_array(jsonb_build_object(
             'status', ${status}::text,
             'upstreamStatus', COALESCE(${upstreamStatus}::text, upstream_status),
             'at', ${params.add(at.toISOString())}::text))
           ELSE transitions END`,
      );
    }
    const rows = await this.db().query(
      `UPDATE generations SET ${sets.join(', ')}
       WHERE id = ${params.add(id)} AND version = ${params.add(expectedVersion)}::int
         ${lease ? `AND ${leaseHeld(lease, params)}` : ''}
       RETURNING *`,
      params.values,
    );
    return rows[0] ? toGeneration(rows[0]) : null;
  }

  async updateBookkeeping(id: string, lease: Lease, bookkeeping: PollBookkeeping): Promise<boolean> {
    const params = new Params();
    const sets = bookkeepingSets(bookkeeping, params);
    if (sets.length === 0) sets.push('lease_owner = lease_owner');
    const rows = await this.db().query(
      `UPDATE generations SET ${sets.join(', ')}
       WHERE id = ${params.add(id)} AND ${leaseHeld(lease, params)}
       RETURNING id`,
      params.values,
    );
    return rows.length > 0;
  }

  async claimDueGenerations(leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<Generation[]> {
    if (limit <= 0) return [];
    const rows = await this.db().query(
      `UPDATE generations SET lease_owner = $1, lease_until = $2, lease_epoch = lease_epoch + 1
       WHERE id IN (
         SELECT id FROM generations
         WHERE status IN ${IN_FLIGHT}
           AND next_poll_at IS NOT NULL AND next_poll_at <= $3
           AND (lease_until IS NULL OR lease_until < $3)
         ORDER BY next_poll_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [leaseOwner, new Date(now.getTime() + leaseMs), now, limit],
    );
    // RETURNING keeps no order; the poller wants the most overdue first.
    return rows.map(toGeneration).sort((a, b) => a.nextPollAt!.getTime() - b.nextPollAt!.getTime());
  }

  async nextDueAt(): Promise<Date | null> {
    const rows = await this.db().query<{ due: unknown }>(
      // A leased row is being polled right now; it is due again only if its lease runs out.
      `SELECT min(GREATEST(next_poll_at, COALESCE(lease_until, next_poll_at))) AS due FROM generations
       WHERE status IN ${IN_FLIGHT} AND next_poll_at IS NOT NULL`,
    );
    return toDateOrNull(rows[0]?.due);
  }

  async findStaleSubmissions(before: Date): Promise<Generation[]> {
    const rows = await this.db().query(
      `SELECT * FROM generations
       WHERE status IN ${IN_FLIGHT} AND upstream_id IS NULL AND created_at < $1
       ORDER BY created_at`,
      [before],
    );
    return rows.map(toGeneration);
  }

  async deleteGeneration(id: string): Promise<void> {
    try {
      await this.db().query('DELETE FROM generations WHERE id = $1', [id]);
    } finally {
      this.listPages?.changed(null);
    }
  }

  /** Every known status is present (0 when none), so a metrics gauge drops back to zero. */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db().query<{ status: string; n: unknown }>(
      'SELECT status, count(*)::int AS n FROM generations GROUP BY status',
    );
    const counts: Record<string, number> = {};
    for (const status of Object.values(GenerationStatus)) counts[status] = 0;
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  async countInFlight(owner: string): Promise<number> {
    const rows = await this.db().query<{ n: unknown }>(
      `SELECT count(*)::int AS n FROM generations WHERE owner = $1 AND status IN ${IN_FLIGHT}`,
      [owner],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async usageGroups(owner: string, since: Date | null): Promise<UsageGroup[]> {
    const rows = await this.db().query<Row>(
      `SELECT status, model, (input->>'durationSeconds')::int AS duration, count(*)::int AS n,
              sum((usage->>'credits')::float8) AS credits, sum((usage->>'usd')::float8) AS usd
         FROM generations
        WHERE owner = $1 AND ($2::timestamptz IS NULL OR created_at >= $2::timestamptz)
        GROUP BY status, model, duration`,
      [owner, since],
    );
    const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => ({
      status: r.status as GenerationStatus,
      model: String(r.model),
      durationSeconds: numberOrNull(r.duration),
      count: Number(r.n),
      credits: numberOrNull(r.credits),
      usd: numberOrNull(r.usd),
    }));
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.db().query(
      `INSERT INTO api_keys (id, owner, hash, prefix, label, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [key.id, key.owner, key.hash, key.prefix, key.label, key.createdAt, key.revokedAt],
    );
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const rows = await this.db().query('SELECT * FROM api_keys WHERE hash = $1', [hash]);
    return rows[0] ? toApiKey(rows[0]) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.db().query('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(toApiKey);
  }

  /** Already revoked keys keep their first revocation time and are not counted. */
  async revokeApiKey(idOrPrefix: string, at: Date): Promise<number> {
    const rows = await this.db().query(
      `UPDATE api_keys SET revoked_at = $2
       WHERE (id = $1 OR prefix = $1) AND revoked_at IS NULL
       RETURNING id`,
      [idOrPrefix, at],
    );
    return rows.length;
  }

  private db(): SqlDriver {
    if (!this.driver) throw new Error('store is not started');
    return this.driver;
  }

  /**
   * One transaction under an advisory lock: several processes starting at once queue on the lock, and
   * each later one finds the migrations already recorded. (PGlite supports pg_advisory_xact_lock; being
   * single-connection, it never waits there.)
   */
  private async migrate(driver: SqlDriver): Promise<void> {
    await driver.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await tx.exec(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           id text PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const applied = new Set(
        (await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).map((row) => row.id),
      );
      for (const migration of this.migrations) {
        if (applied.has(migration.id)) continue;
        await tx.exec(migration.sql);
        await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      }
    });
  }
}

/** Collects positional parameters while a statement is assembled. */
class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** SET clauses for the visible fields; undefined means "leave alone", null means "set null". */
function stateSets(change: Partial<GenerationState>, params: Params): string[] {
  const sets: string[] = [];
  if (change.status !== undefined) sets.push(`status = ${params.add(change.status)}`);
  if (change.upstreamId !== undefined) sets.push(`upstream_id = ${params.add(change.upstreamId)}`);
  if (change.upstreamStatus !== undefined) sets.push(`upstream_status = ${params.add(change.upstreamStatus)}`);
  if (change.video !== undefined) sets.push(`video = ${jsonParam(change.video, params)}`);
  if (change.error !== undefined) sets.push(`error = ${jsonParam(change.error, params)}`);
  if (change.usage !== undefined) sets.push(`usage = ${jsonParam(change.usage, params)}`);
  if (change.completedAt !== undefined) {
    sets.push(`completed_at = ${params.add(change.completedAt)}::timestamptz`);
  }
  return sets;
}

/**
 * The lease is held while the row still carries its claim: the owner alone is not enough, since the
 * same instance may have claimed the row again after its lease expired (a stalled poll). A release
 * sets the owner to null, which ends the lease too.
 */
function leaseHeld(lease: Lease, params: Params): string {
  return `lease_owner = ${params.add(lease.owner)}::text AND lease_epoch = ${params.add(lease.epoch)}::int`;
}

function bookkeepingSets(b: PollBookkeeping, params: Params): string[] {
  const sets: string[] = [];
  if (b.nextPollAt !== undefined) sets.push(`next_poll_at = ${params.add(b.nextPollAt)}::timestamptz`);
  if (b.pollCount !== undefined) sets.push(`poll_count = ${params.add(b.pollCount)}::int`);
  if (b.pollFailures !== undefined) sets.push(`poll_failures = ${params.add(b.pollFailures)}::int`);
  if (b.leaseOwner !== undefined) sets.push(`lease_owner = ${params.add(b.leaseOwner)}::text`);
  if (b.leaseUntil !== undefined) sets.push(`lease_until = ${params.add(b.leaseUntil)}::timestamptz`);
  return sets;
}

/** JSON travels as text and is cast, so drivers never apply their own array/object encoding. */
function jsonParam(value: unknown, params: Params): string {
  return value === null ? 'NULL' : `${params.add(JSON.stringify(value))}::jsonb`;
}

function toGeneration(row: Row): Generation {
  const transitions = toJson<Array<{ status: GenerationStatus; upstreamStatus: string | null; at: string }>>(
    row.transitions,
  );
  return {
    id: String(row.id),
    owner: String(row.owner),
    input: toJson<GenerationInput>(row.input),
    inputHash: String(row.input_hash),
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    status: row.status as GenerationStatus,
    upstreamId: (row.upstream_id as string | null) ?? null,
    upstreamStatus: (row.upstream_status as string | null) ?? null,
    video: toJsonOrNull<GenerationVideo>(row.video),
    error: toJsonOrNull<GenerationError>(row.error),
    usage: toJsonOrNull<Usage>(row.usage),
    completedAt: toDateOrNull(row.completed_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    deadlineAt: toDate(row.deadline_at),
    version: Number(row.version),
    transitions: (transitions ?? []).map((t) => ({
      status: t.status,
      upstreamStatus: t.upstreamStatus ?? null,
      at: new Date(t.at),
    })),
    nextPollAt: toDateOrNull(row.next_poll_at),
    pollCount: Number(row.poll_count),
    pollFailures: Number(row.poll_failures),
    leaseOwner: (row.lease_owner as string | null) ?? null,
    leaseUntil: toDateOrNull(row.lease_until),
    leaseEpoch: Number(row.lease_epoch),
  };
}

function toApiKey(row: Row): ApiKeyRecord {
  return {
    id: String(row.id),
    owner: String(row.owner),
    hash: String(row.hash),
    prefix: String(row.prefix),
    label: (row.label as string | null) ?? null,
    createdAt: toDate(row.created_at),
    revokedAt: toDateOrNull(row.revoked_at),
  };
}

// Drivers differ in how much they parse (PGlite and `pg` give Date and objects; others may give text).
// `new Date(value)` also copies a Date from another realm (jest's sandbox) without losing milliseconds.
function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string | Date);
}

function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

function toJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toJsonOrNull<T>(value: unknown): T | null {
  return value === null || value === undefined ? null : toJson<T>(value);
}
