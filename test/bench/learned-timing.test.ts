/**
 * A smoke run of the learned-timing benchmark (virtual time, no servers): its rows have the table's
 * shape and figures that can exist. Figures are printed by `npm run bench`, never asserted here.
 */
import { runBenchmarks } from '../../bench/suite';

describe('learned-timing benchmark smoke run', () => {
  it('prints both runs (simulator times and 2× drift) with finite figures and a verdict for every target', async () => {
    const rows = await runBenchmarks({ timing: { perModel: 3 } });
    const benches = [...new Set(rows.map((r) => r.bench))];
    expect(benches).toHaveLength(2);
    expect(benches[1]).toMatch(/2× slower/);
    for (const r of rows) {
      expect({ metric: r.metric, finite: Number.isFinite(r.ours) && r.ours >= 0 }).toEqual({ metric: r.metric, finite: true });
      if (r.baseline !== undefined) expect(Number.isFinite(r.baseline)).toBe(true);
      if (r.target && r.target !== '–') expect(typeof r.met).toBe('boolean');
    }
    const polls = rows.filter((r) => r.metric.startsWith('polls per generation, learned vs fixed'));
    for (const r of polls) expect(r.ours).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
