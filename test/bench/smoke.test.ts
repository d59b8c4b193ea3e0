/**
 * A smoke run of the benchmark code (`npm run bench`) at a tiny size: every benchmark runs end to
 * end against real servers and clients, and the table has the right shape and sane figures.
 * Timings are printed by the benchmark, never asserted here. Needs the build in dist/ (`npm test`
 * builds first).
 */
import { markdownTable, type Row } from '../../bench/results';
import { runBenchmarks } from '../../bench/suite';

jest.setTimeout(180_000);

describe('benchmark smoke run', () => {
  let rows: Row[];
  beforeAll(async () => {
    // The parts mostly wait (on timers, sockets and child processes), so they run side by side.
    const parts = await Promise.all([
      runBenchmarks({ upstream: { perModel: 1, timeScale: 0.01, subscriberCounts: [3] } }),
      runBenchmarks({ fanout: [20] }),
      // Windows of 2 s after a warm-up: this process runs autocannon beside the other parts, and on a
      // loaded machine a stall of about a second could leave a 1 s window with no answer counted,
      // which the bench rightly reports as a failure.
      runBenchmarks({ http: { durationSeconds: 2, rounds: 1, warmupSeconds: 1, connections: 4, generations: 5 } }),
      runBenchmarks({ creates: 5, startup: true }),
    ]);
    rows = parts.flat();
  });

  it('has a row for every figure, each with a finite number and a unit-consistent baseline', () => {
    const benches = new Set(rows.map((r) => r.bench.replace(/ \(.*\)$/, '').replace(/ \d+$/, '')));
    expect([...benches].sort()).toEqual(
      ['Create', 'Fan-out', 'HTTP videoGeneration(id)', 'HTTP videoGenerations(first: 20)', 'Start-up', 'Upstream'].sort(),
    );
    // Upstream 3 + 1, fan-out 4, HTTP 4 a query (req/s, p99, p99 by window pair, CPU per request), creates 3, start-up 2.
    expect(rows).toHaveLength(3 + 1 + 4 + 4 + 4 + 3 + 2);
    for (const r of rows) {
      expect({ metric: r.metric, finite: Number.isFinite(r.ours) }).toEqual({ metric: r.metric, finite: true });
      if (r.baseline !== undefined) expect(Number.isFinite(r.baseline)).toBe(true);
      if (r.target && r.target !== '–') expect(typeof r.met).toBe('boolean');
    }
  });

  it('every watcher got its transition and no HTTP request failed', () => {
    for (const r of rows) expect(r.metric).not.toMatch(/received|FAILURES/);
  });

  it('polls each generation at least once on both sides, and watchers never add polls', () => {
    const polls = rows.find((r) => r.metric.startsWith('polls per generation vs fixed'))!;
    expect(polls.ours).toBeGreaterThanOrEqual(1);
    expect(polls.baseline).toBeGreaterThanOrEqual(1);
    const bySubscribers = rows.find((r) => r.metric.startsWith('polls per generation, 3 subscribers vs 1 per generation'))!;
    expect(bySubscribers.ours).toBeGreaterThanOrEqual(1);
  });

  it('reports sizes and rates that can exist', () => {
    const value = (metric: string) => rows.find((r) => r.metric.startsWith(metric))!;
    expect(value('heap per connection').ours).toBeGreaterThan(0);
    expect(value('req/s vs bare Apollo 5').ours).toBeGreaterThan(0);
    expect(value('req/s vs bare Apollo 5').baseline).toBeGreaterThan(0);
    expect(value('idle RSS').ours).toBeGreaterThan(10);
    expect(value('spawn → /readyz 200').ours).toBeGreaterThan(0);
  });

  it('renders one Markdown table with the targets beside the figures', () => {
    const table = markdownTable(rows).split('\n');
    expect(table[0]).toBe('| benchmark | metric | ours | baseline | ratio | target | met |');
    expect(table).toHaveLength(rows.length + 2);
    expect(table.some((line) => line.includes('≤ 0.5×'))).toBe(true);
  });
});
