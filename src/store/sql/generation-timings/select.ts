import type { GenerationTimingSketch } from '../../store';
import type { SqlSession } from '../session';

export async function listGenerationTimings(db: SqlSession): Promise<GenerationTimingSketch[]> {
  const rows = await db.query<{ bucket: string; weights: unknown[]; samples: unknown; updated_at: Date | string }>(
    'SELECT bucket, weights, samples, updated_at FROM generation_timings',
  );
  return rows.map((r) => ({
    bucket: r.bucket,
    weights: r.weights.map(Number),
    samples: Number(r.samples),
    updatedAt: new Date(r.updated_at),
  }));
}
