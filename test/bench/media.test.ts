/**
 * The media copy benchmark's code at a small size (two 8 MB videos): a real gateway process (dist/,
 * `npm test` builds first) copies both into its folder store, and the plain streaming copy of the
 * same run downloads both, giving the table's five rows. Timings and memory are printed by the
 * benchmark, never asserted here.
 */
import { runBenchmarks } from '../../bench/suite';

describe('media copy benchmark', () => {
  it('stores every copy on both sides and reports five rows of finite figures', async () => {
    const rows = await runBenchmarks({ media: { videos: 2, videoMB: 8 } });
    const bench = 'Media copy (2 × 8 MB at once, folder store, vs plain undici stream to file)';
    expect(rows.map((r) => [r.bench, r.metric])).toEqual([
      [bench, 'copies complete'],
      [bench, 'first completion → last stored (baseline: first request → last file closed)'],
      [bench, 'throughput'],
      [bench, 'RSS before the copies'],
      [bench, 'peak RSS growth while copying'],
    ]);
    const complete = rows[0]!;
    expect([complete.ours, complete.baseline, complete.met]).toEqual([2, 2, true]);
    for (const r of rows) {
      expect({ metric: r.metric, ours: Number.isFinite(r.ours), baseline: Number.isFinite(r.baseline) }).toEqual({
        metric: r.metric,
        ours: true,
        baseline: true,
      });
    }
    expect(rows[3]!.ours).toBeGreaterThan(10);
    expect(typeof rows[4]!.met).toBe('boolean');
  }, 180_000);
});
