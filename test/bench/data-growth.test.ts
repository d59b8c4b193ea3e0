/**
 * A smoke run of the data-growth benchmark (`npm run bench -- --only growth`) at a tiny size, on the
 * embedded store: every read runs at every size and the rows have the table's shape. Timings are
 * printed by the benchmark, never asserted here.
 */
import { runDataGrowth } from '../../bench/data-growth';
import type { Row } from '../../bench/results';

describe('data-growth benchmark smoke run', () => {
  let rows: Row[];
  const url = process.env.BENCH_POSTGRES_URL;

  beforeAll(async () => {
    delete process.env.BENCH_POSTGRES_URL;
    rows = await runDataGrowth({ sizes: [20, 60], samples: 2, headOfLineMs: 200 });
  }, 180_000);

  afterAll(() => {
    if (url !== undefined) process.env.BENCH_POSTGRES_URL = url;
  });

  it('compares each read at the larger size with the smaller one, and measures the head of line and the event loop at each', () => {
    const growth = rows.filter((r) => r.metric.includes(' p99 at 60 vs 20 per owner'));
    expect(growth.map((r) => r.metric.replace(/ p99 at .*/, ''))).toEqual([
      'by id',
      'first list page',
      'deep list page',
      'rare status filter',
      'owner-wide catch-up',
      'usage',
      'usage since mid-day',
      'metrics counts',
    ]);
    // At each size, the other owner's list beside its solo figure, and the event loop beside its idle delay.
    const headOfLine = rows.filter((r) => r.metric.startsWith("another owner's list while the heavy owner loops on usage"));
    // On the embedded store, also with every usage report read anew (the gateway's store keeps them).
    const anew = rows.filter((r) => r.metric.startsWith('the same with each usage report read anew'));
    // And read anew at the gateway's per-owner quota rather than back to back.
    const atQuota = rows.filter((r) => r.metric.startsWith("the same, read anew, at the gateway's default quota"));
    const loop = rows.filter((r) => r.metric.startsWith('event-loop delay p99 while those queries run'));
    expect(headOfLine.map((r) => [r.unit, r.baseline !== undefined])).toEqual([
      ['req/s', true],
      ['req/s', true],
    ]);
    expect(anew.map((r) => [r.unit, r.baseline !== undefined])).toEqual([
      ['req/s', true],
      ['req/s', true],
    ]);
    expect(atQuota.map((r) => [r.unit, r.baseline !== undefined])).toEqual([
      ['req/s', true],
      ['req/s', true],
    ]);
    expect(loop.map((r) => [r.unit, r.baseline !== undefined])).toEqual([
      ['ms', true],
      ['ms', true],
    ]);
    expect(rows).toHaveLength(growth.length + headOfLine.length + anew.length + atQuota.length + loop.length);
    for (const r of rows) {
      expect(r.bench).toBe('Data growth, embedded');
      expect(Number.isFinite(r.ours) && r.ours >= 0).toBe(true);
      if (r.baseline !== undefined) expect(Number.isFinite(r.baseline)).toBe(true);
      expect(typeof r.met).toBe('boolean');
    }
  });
});
