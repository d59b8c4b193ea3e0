/**
 * The progress page's time left, in words, from the API's estimate: the range, the countdown between
 * events, what it says past the high end, and when the estimate is rough.
 */
import { timeLeft, type Estimate } from '../../../src/web/progress/time-left';

const T0 = Date.parse('2026-01-01T12:00:00Z');
/** An estimate made at T0: median `eta` s from then, range `low`–`high` s. */
function estimate(eta: number, low: number, high: number, more: Partial<Estimate> = {}): Estimate {
  return {
    status: 'GENERATING',
    estimatedCompletionAt: new Date(T0 + eta * 1000).toISOString(),
    etaSeconds: eta,
    etaLowSeconds: low,
    etaHighSeconds: high,
    etaSampleCount: 14.2,
    etaFromCatalogue: false,
    ...more,
  };
}
const at = (seconds: number) => T0 + seconds * 1000;

describe('timeLeft', () => {
  it('gives the median and the range around it', () => {
    expect(timeLeft(estimate(80, 50, 120), at(0))).toEqual({ text: 'About 1 min 20 s left, between 50 s and 2 min', basis: '' });
    expect(timeLeft(estimate(30, 12, 44), at(0)).text).toBe('About 30 s left, between 12 s and 45 s');
    expect(timeLeft(estimate(700, 400, 1_300), at(0)).text).toBe('About 11 min 40 s left, between 6 min 40 s and 22 min');
  });

  it('counts the whole range down between events', () => {
    expect(timeLeft(estimate(80, 50, 120), at(20)).text).toBe('About 1 min left, between 30 s and 1 min 40 s');
    // Past the low end: only the high end is left to say.
    expect(timeLeft(estimate(80, 50, 120), at(60)).text).toBe('About 20 s left, at most 1 min');
  });

  it('past the median says it is close, and past the high end that it takes longer than usual', () => {
    expect(timeLeft(estimate(80, 50, 120), at(95)).text).toBe('Any moment now: within 25 s');
    expect(timeLeft(estimate(80, 50, 120), at(121)).text).toBe('Taking longer than usual…');
    expect(timeLeft(estimate(80, 50, 120), at(3_600)).text).toBe('Taking longer than usual…');
  });

  it('says it takes longer than usual when the API gives no estimate any more (overdue)', () => {
    const overdue = { estimatedCompletionAt: null, etaSeconds: null, etaLowSeconds: null, etaHighSeconds: null };
    expect(timeLeft(estimate(0, 0, 0, overdue), at(0)).text).toBe('Taking longer than usual…');
    expect(timeLeft(estimate(0, 0, 0, { ...overdue, status: 'QUEUED' }), at(0)).text).toBe('Waiting for the video service…');
  });

  it('a narrow range is not repeated', () => {
    expect(timeLeft(estimate(8, 8, 8), at(0)).text).toBe('About 8 s left');
  });

  it('says when the estimate still leans on the catalogue, and on how many finished videos', () => {
    expect(timeLeft(estimate(80, 50, 120, { etaFromCatalogue: true, etaSampleCount: 0 }), at(0)).basis).toBe(
      "Rough estimate: from the model's stated time",
    );
    expect(timeLeft(estimate(80, 50, 120, { etaFromCatalogue: true, etaSampleCount: 0.9 }), at(0)).basis).toBe(
      "Rough estimate: from the model's stated time and 1 finished video like this",
    );
    expect(timeLeft(estimate(80, 50, 120, { etaFromCatalogue: true, etaSampleCount: 4.4 }), at(0)).basis).toBe(
      "Rough estimate: from the model's stated time and 4 finished videos like this",
    );
    expect(timeLeft(estimate(80, 50, 120, { etaFromCatalogue: false, etaSampleCount: 4.4 }), at(0)).basis).toBe('');
  });
});
