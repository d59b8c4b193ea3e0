/**
 * Fills the `generations` table with a long history in one SQL statement per batch (generate_series),
 * for the data-growth benchmark and the EXPLAIN checks: `perOwner` generations of one heavy owner and
 * as many spread over `otherOwners` owners. Mostly ended generations, as in a long-running deployment:
 * of every 100, 90 COMPLETED (with usage), 6 FAILED, 2 CANCELLED, 1 TIMED_OUT, 1 GENERATING.
 * The roll-up triggers are off while it loads (each row otherwise upserts a row in each roll-up: the 1M step,
 * 2M rows, did not finish on the embedded store) and the roll-ups are then counted from the whole table
 * in one statement each, as their migrations do.
 */
import { STATUS_COUNTS_FROM_ROWS, USAGE_DAYS_FROM_ROWS, USAGE_TOTALS_FROM_ROWS } from '../src/store/migrations';
import type { SqlSession } from '../src/store/sql/session';

export interface HistoryShape {
  /** Generations of `heavyOwner`. */
  perOwner: number;
  heavyOwner: string;
  /** The same number again, spread over this many other owners (`owner-0` …). */
  otherOwners: number;
  /** Rows per INSERT statement. Default 50,000. */
  batch?: number;
}

/** The first generation's creation time; each later one is a second after the previous one of its owner. */
export const HISTORY_START = new Date('2024-01-01T00:00:00.000Z');

const MODELS = ['google/veo3', 'google/veo-3.0-fast', 'kling-video/v2.1/master/text-to-video', 'bytedance/seedance-1-0-lite-t2v'];

export async function fillHistory(db: SqlSession, shape: HistoryShape): Promise<void> {
  const batch = shape.batch ?? 50_000;
  await db.exec('ALTER TABLE generations DISABLE TRIGGER USER');
  try {
    await insertRows(db, shape, batch);
  } finally {
    await db.exec('ALTER TABLE generations ENABLE TRIGGER USER');
  }
  await db.exec(`DELETE FROM generation_status_counts; ${STATUS_COUNTS_FROM_ROWS}`);
  await db.exec(`DELETE FROM generation_usage_days; ${USAGE_DAYS_FROM_ROWS}`);
  await db.exec(`DELETE FROM generation_usage_totals; ${USAGE_TOTALS_FROM_ROWS}`);
  await db.exec('ANALYZE generations');
}

async function insertRows(db: SqlSession, shape: HistoryShape, batch: number): Promise<void> {
  for (const side of ['heavy', 'others'] as const) {
    for (let from = 0; from < shape.perOwner; from += batch) {
      const to = Math.min(shape.perOwner, from + batch) - 1;
      // Both sides take every parameter (PostgreSQL must infer each one's type).
      const owner = `CASE WHEN ${side === 'heavy'} THEN $3::text ELSE 'owner-' || (i % $4::int) END`;
      await db.query(
        `INSERT INTO generations (
           id, owner, model, input, input_hash, idempotency_key, status, upstream_id, upstream_status,
           video, error, usage, created_at, updated_at, completed_at, deadline_at, version, transitions,
           next_poll_at, poll_count, poll_failures
         )
         SELECT '${side}-' || i, ${owner}, m.model,
                jsonb_build_object('model', m.model, 'prompt', 'a cat walking in the rain, number ' || i,
                                   'durationSeconds', 4 + (i % 3) * 2),
                md5(i::text), NULL, s.status, 'up-${side}-' || i, lower(s.status),
                CASE WHEN s.status = 'COMPLETED' THEN jsonb_build_object('url', 'https://cdn.example/v/' || i || '.mp4') END,
                CASE WHEN s.status = 'FAILED' THEN jsonb_build_object('code', 'UPSTREAM_FAILED', 'message', 'failed') END,
                CASE WHEN s.status = 'COMPLETED' THEN jsonb_build_object('credits', 400000, 'usd', 0.2) END,
                t.created, t.created + interval '90 seconds',
                CASE WHEN s.status IN ('QUEUED', 'GENERATING') THEN NULL ELSE t.created + interval '90 seconds' END,
                t.created + interval '30 minutes', 3,
                jsonb_build_array(jsonb_build_object('status', 'QUEUED', 'upstreamStatus', NULL, 'at', t.created),
                                  jsonb_build_object('status', s.status, 'upstreamStatus', lower(s.status), 'at', t.created + interval '90 seconds')),
                CASE WHEN s.status IN ('QUEUED', 'GENERATING') THEN t.created + interval '95 seconds' END, 5, 0
           FROM generate_series($1::int, $2::int) AS i,
                LATERAL (SELECT (ARRAY[${MODELS.map((m) => `'${m}'`).join(', ')}])[1 + i % ${MODELS.length}] AS model) AS m,
                LATERAL (SELECT CASE
                  WHEN i % 100 < 90 THEN 'COMPLETED' WHEN i % 100 < 96 THEN 'FAILED' WHEN i % 100 < 98 THEN 'CANCELLED'
                  WHEN i % 100 < 99 THEN 'TIMED_OUT' ELSE 'GENERATING' END AS status) AS s,
                LATERAL (SELECT $5::timestamptz + i * interval '1 second' AS created) AS t`,
        [from, to, shape.heavyOwner, shape.otherOwners, HISTORY_START],
      );
    }
  }
}
