import { GenerationStatus } from '../../../model/generation';
import type { UsageGroup } from '../../store';
import { IN_FLIGHT } from '../generations/in-flight';
import { toNumberOrNull } from '../rows';
import type { Row, SqlSession } from '../session';

/**
 * Every known status is present (0 when none), so a metrics gauge drops back to zero. From the counts
 * that triggers keep (migration 0014_status_counts): a scrape costs the same whatever the history.
 */
export async function countByStatus(db: SqlSession): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: unknown }>('SELECT status, n FROM generation_status_counts');
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
    `SELECT status, model, (input->>'durationSeconds')::int AS duration, count(*)::int AS n,
            sum((usage->>'credits')::float8) AS credits, sum((usage->>'usd')::float8) AS usd
       FROM generations
      WHERE owner = $1 AND ($2::timestamptz IS NULL OR created_at >= $2::timestamptz)
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
