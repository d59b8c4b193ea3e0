import { GenerationStatus } from '../../../model/generation';
import type { UsageGroup } from '../../store';
import { IN_FLIGHT } from '../generations/in-flight';
import { toNumberOrNull } from '../rows';
import type { Row, SqlSession } from '../session';

/** Every known status is present (0 when none), so a metrics gauge drops back to zero. */
export async function countByStatus(db: SqlSession): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: unknown }>('SELECT status, count(*)::int AS n FROM generations GROUP BY status');
  const counts: Record<string, number> = {};
  for (const status of Object.values(GenerationStatus)) counts[status] = 0;
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

export async function countInFlight(db: SqlSession, owner: string): Promise<number> {
  const rows = await db.query<{ n: unknown }>(`SELECT count(*)::int AS n FROM generations WHERE owner = $1 AND status IN ${IN_FLIGHT}`, [owner]);
  return Number(rows[0]?.n ?? 0);
}

export async function usageGroups(db: SqlSession, owner: string, since: Date | null): Promise<UsageGroup[]> {
  const rows = await db.query<Row>(
    // Deleted generations count as they were when deleted (deleted_usage): what was paid stays paid.
    `SELECT status, model, duration, count(*)::int AS n, sum(credits) AS credits, sum(usd) AS usd
       FROM (SELECT status, model, (input->>'durationSeconds')::int AS duration,
                    (usage->>'credits')::float8 AS credits, (usage->>'usd')::float8 AS usd, created_at
               FROM generations WHERE owner = $1
             UNION ALL
             SELECT status, model, duration_seconds, credits, usd, created_at
               FROM deleted_usage WHERE owner = $1) AS used
      WHERE $2::timestamptz IS NULL OR created_at >= $2::timestamptz
      GROUP BY status, model, duration`,
    [owner, since],
  );
  return rows.map((r) => ({
    status: r.status as GenerationStatus,
    model: String(r.model),
    durationSeconds: toNumberOrNull(r.duration),
    count: Number(r.n),
    credits: toNumberOrNull(r.credits),
    usd: toNumberOrNull(r.usd),
  }));
}
