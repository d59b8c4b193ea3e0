import type { GenerationTimeSample } from '../../store';
import type { SqlSession } from '../session';

/**
 * Decays every weight of the bucket's histogram and adds one to the sample's bin, in one statement:
 * the row lock of ON CONFLICT serialises concurrent samples, so none is lost. The same arithmetic as
 * `addSample` in generations/time-distribution.ts.
 */
export async function recordGenerationTime(db: SqlSession, sample: GenerationTimeSample): Promise<void> {
  const first = new Array<number>(sample.bins).fill(0);
  first[sample.bin] = 1;
  await db.query(
    `INSERT INTO generation_timings (bucket, weights, samples, updated_at)
     VALUES ($1, $2::float8[], 1, $5)
     ON CONFLICT (bucket) DO UPDATE SET
       weights = ARRAY(
         SELECT CASE WHEN t.i = $3 THEN t.w * $4 + 1 ELSE t.w * $4 END
           FROM unnest(generation_timings.weights) WITH ORDINALITY AS t(w, i)
          ORDER BY t.i),
       samples = generation_timings.samples + 1,
       updated_at = $5`,
    // An array literal as text: the two drivers encode JS arrays differently.
    [sample.bucket, `{${first.join(',')}}`, sample.bin + 1, sample.decay, sample.at],
  );
}
