/**
 * Reading the plans PostgreSQL runs for the store's own SQL: a session that EXPLAINs (ANALYZE) each
 * statement instead of answering it, and the nodes of a plan as a flat list.
 */
import type { Row, SqlSession } from '../../src/store/sql/session';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** The plan's nodes, the root first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** A session that runs EXPLAIN ANALYZE of every query it is given on `db`, keeps the plans, and answers no rows. */
export function explaining(db: SqlSession): SqlSession & { plans: PlanNode[] } {
  const plans: PlanNode[] = [];
  return {
    plans,
    async query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const [row] = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      plans.push(row!['QUERY PLAN'][0].Plan);
      return [];
    },
    exec: () => Promise.reject(new Error('not explained')),
  };
}
