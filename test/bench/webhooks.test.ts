/**
 * The webhook benchmark's code at a tiny size (the gateway's own store and sender, a real receiver):
 * both runs, 10 % dead and none dead, end with every live delivery received and give the table's three
 * rows. Timings are printed by the benchmark, never asserted here; no build needed.
 */
import { runBenchmarks } from '../../bench/suite';

describe('webhook benchmark', () => {
  it('compares 10 % dead endpoints with none, in three rows of finite figures', async () => {
    const rows = await runBenchmarks({ webhooks: { endpoints: 20, owners: 4, generationsPerOwner: 1, deadFraction: 0.1 } });
    expect(rows.map((r) => [r.bench, r.metric])).toEqual([
      ['Webhooks (20 endpoints, 10 % dead vs none)', 'deliveries per second (live endpoints)'],
      ['Webhooks (20 endpoints, 10 % dead vs none)', 'state change → receipt p50'],
      ['Webhooks (20 endpoints, 10 % dead vs none)', 'state change → receipt p99'],
    ]);
    for (const r of rows) {
      expect(Number.isFinite(r.ours)).toBe(true);
      expect(Number.isFinite(r.baseline)).toBe(true);
    }
  }, 120_000);
});
