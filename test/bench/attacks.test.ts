/**
 * A smoke run of the attack benchmark (`npm run bench -- --only attacks`) at a tiny size: a real
 * gateway process, the real attack driver and legitimate client, both phases. Figures are printed
 * by the benchmark, never asserted; what is checked is that every attack ran and the rows are whole.
 * Needs the build in dist/ (`npm test` builds first).
 */
import { runAttacks, type AttackFigures } from '../../bench/attacks';
import { HostProcess, type Started } from '../../bench/processes';
import type { HostReady } from '../../bench/server-host';
import { attackRows } from '../../bench/suite';

jest.setTimeout(180_000);

describe('attack benchmark smoke run', () => {
  let figures: AttackFigures;
  // Stopped here: a gateway left running would hold Jest's output pipes open, and Jest would never exit.
  let started: Promise<Started<HostReady>> | undefined;
  afterAll(async () => {
    await (await started?.catch(() => undefined))?.host.stop();
  });
  beforeAll(async () => {
    started = HostProcess.start<HostReady>('server-host', ['gateway'], ['--expose-gc']);
    figures = await runAttacks(
      {
        phaseSeconds: 2,
        largeGenerations: 2,
        imageBytes: 10_000,
        sizes: { commentBytes: 10_000, unreadRequests: 3, unreadSubscriptions: 2, nestingDepth: 1_000, statusValues: 100, concurrency: 1 },
      },
      started,
    );
  });

  it('sends every attack, and each got answers', () => {
    expect(Object.keys(figures.report).sort()).toEqual(
      ['1 anonymous 900 KB comment', '2 WebSocket, never read', '2 list, never read', '3 filter.status list', '3 nested variables'].sort(),
    );
    for (const [attack, r] of Object.entries(figures.report)) {
      expect({ attack, sent: r.sent > 0 }).toEqual({ attack, sent: true });
    }
    for (const attack of ['1 anonymous 900 KB comment', '3 nested variables', '3 filter.status list']) {
      const answers = Object.values(figures.report[attack]!.answers).reduce((a, b) => a + b, 0);
      expect({ attack, answered: answers > 0 }).toEqual({ attack, answered: true });
    }
  });

  it('times the legitimate client and samples memory in both phases, and the gateway survives', () => {
    for (const phase of [figures.quiet, figures.attacked]) {
      expect(phase.legitRequests).toBeGreaterThan(0);
      expect(Number.isFinite(phase.legitP99Ms)).toBe(true);
      expect(phase.peakRssMB).toBeGreaterThan(10);
      expect(phase.peakHeapMB).toBeGreaterThan(1);
    }
    expect(figures.alive).toBe(true);
  });

  it('makes six rows with the issue’s targets', () => {
    const rows = attackRows(figures, 2);
    expect(rows.map((r) => r.metric)).toEqual([
      'peak RSS',
      'peak heap',
      'legitimate client p50',
      'legitimate client p99',
      'legitimate requests failed',
      'gateway alive and ready after',
    ]);
    expect(rows.filter((r) => r.target !== '–').map((r) => r.target)).toEqual(['< 1.5×', '< 5×', '= 1']);
    for (const r of rows) expect(Number.isFinite(r.ours)).toBe(true);
  });
});
