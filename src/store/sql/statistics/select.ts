import { GenerationStatus } from '../../../model/generation';
import type { UsageGroup } from '../../store';
import { IN_FLIGHT } from '../generations/in-flight';
import { toNumberOrNull } from '../rows';
import type { Row, SqlSession } from '../session';

/**
 * Every known status is present (0 when none), so a metrics gauge drops back to zero. From the counts
 * that triggers keep (migration 0014_status_counts), summed over their stripes (0017_roll_up_stripes):
 * a scrape reads at most 16 rows per status, whatever the history.
 */
export async function countByStatus(db: SqlSession): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: unknown }>('SELECT status, sum(n) AS n FROM generation_status_counts GROUP BY status');
  const counts: Record<string, number> = {};
  for (const status of Object.values(GenerationStatus)) counts[status] = 0;
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

export async function countInFlight(db: SqlSession, owner: string): Promise<number> {
  const rows = await db.query<{ n: unknown }>(`SELECT count(*)::int AS n FROM generations WHERE owner = $1 AND status IN ${IN_FLIGHT}`, [owner]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * All time: the per-owner totals that triggers keep (migration 0014_usage_totals), at most one row per
 * group and stripe (0017_roll_up_stripes) whatever the history. Since a time: the per-day sums kept
 * beside them (0014_usage_days), so whole UTC days at or after `since` are read at most one row per
 * day, group and stripe; only the generations between
 * `since` and the next midnight are read one by one (none when `since` is a midnight). One statement,
 * so both parts come from the same snapshot.
 */
export async function usageGroups(db: SqlSession, owner: string, since: Date | null): Promise<UsageGroup[]> {
  if (since === null) return (await db.query<Row>(ALL_TIME_USAGE, [owner])).map(toUsageGroup);
  // The first UTC midnight at or after `since`, as a date.
  const firstDay = `(CASE WHEN ($2::timestamptz AT TIME ZONE 'UTC')::time = '00:00'
                          THEN ($2::timestamptz AT TIME ZONE 'UTC')::date
                          ELSE ($2::timestamptz AT TIME ZONE 'UTC')::date + 1 END)`;
  const rows = await db.query<Row>(
    // Deleted generations count as they were when deleted (deleted_usage): what was paid stays paid. Whole
    // days already hold them (a trigger on deleted_usage adds back what the delete took from the day).
    `SELECT status, model, duration, sum(n)::int AS n,
            CASE WHEN sum(credits_n) > 0 THEN sum(credits)::float8 END AS credits,
            CASE WHEN sum(usd_n) > 0 THEN sum(usd)::float8 END AS usd
       FROM (SELECT status, model, duration, n, credits, credits_n, usd, usd_n
               FROM generation_usage_days
              WHERE owner = $1 AND ($2::timestamptz IS NULL OR day >= ${firstDay})
             UNION ALL
             SELECT status, model, generation_usage_duration(input), 1,
                    coalesce(generation_usage_number(usage->'credits'), 0), (generation_usage_number(usage->'credits') IS NOT NULL)::int,
                    coalesce(generation_usage_number(usage->'usd'), 0), (generation_usage_number(usage->'usd') IS NOT NULL)::int
               FROM generations
              WHERE owner = $1 AND $2::timestamptz IS NOT NULL
                AND created_at >= $2::timestamptz AND created_at < (${firstDay}::timestamp AT TIME ZONE 'UTC')
             UNION ALL
             SELECT status, model, duration_seconds, 1,
                    coalesce(credits, 0), (credits IS NOT NULL)::int, coalesce(usd, 0), (usd IS NOT NULL)::int
               FROM deleted_usage
              WHERE owner = $1 AND $2::timestamptz IS NOT NULL
                AND created_at >= $2::timestamptz AND created_at < (${firstDay}::timestamp AT TIME ZONE 'UTC')) AS parts
      GROUP BY status, model, duration
     HAVING sum(n) > 0`,
    [owner, since],
  );
  return rows.map(toUsageGroup);
}

/**
 * All time: the totals alone (deleted generations are in them already), up to one row per group and
 * stripe (0017_roll_up_stripes), found by the roll-up's unique key (owner first). A statement of its
 * own: planning the three branches above cost the embedded database about as much again as running
 * them (4.2 vs 2.5 ms a call at 1k rows per owner).
 */
const ALL_TIME_USAGE = `SELECT status, model, duration, sum(n)::int AS n,
       CASE WHEN sum(credits_n) > 0 THEN sum(credits)::float8 END AS credits,
       CASE WHEN sum(usd_n) > 0 THEN sum(usd)::float8 END AS usd
  FROM generation_usage_totals
 WHERE owner = $1
 GROUP BY status, model, duration
HAVING sum(n) > 0`;

function toUsageGroup(r: Row): UsageGroup {
  return {
    status: r.status as GenerationStatus,
    model: String(r.model),
    durationSeconds: toNumberOrNull(r.duration),
    count: Number(r.n),
    credits: toNumberOrNull(r.credits),
    usd: toNumberOrNull(r.usd),
  };
}
