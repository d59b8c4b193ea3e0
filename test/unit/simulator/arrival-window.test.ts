import { ArrivalWindow } from '../../../src/simulator/arrival-window';
import { RequestCounter } from '../../../src/simulator/control';

/** A window on a clock the test moves: `at(ms)` records one arrival at that time. */
function windowOnClock(windowMs = 1_000) {
  let now = 0;
  const w = new ArrivalWindow(windowMs, () => now);
  return {
    w,
    at: (...times: number[]) => {
      for (const t of times) {
        now = t;
        w.arrive();
      }
    },
  };
}

describe('ArrivalWindow', () => {
  it('is 0 before anything arrives', () => {
    expect(windowOnClock().w.max()).toBe(0);
  });

  it('counts arrivals less than 1,000 ms apart as one window', () => {
    const { w, at } = windowOnClock();
    at(0, 500, 999.999);
    expect(w.max()).toBe(3);
  });

  it('does not put arrivals exactly 1,000 ms apart in one window (half-open windows)', () => {
    const { w, at } = windowOnClock();
    at(0, 1_000, 2_000, 3_000);
    expect(w.max()).toBe(1);
  });

  it('finds the densest window wherever it lies, not only on whole seconds', () => {
    const { w, at } = windowOnClock();
    // Whole seconds [0, 1 s) and [1 s, 2 s) hold 4 and 3; the window [0.6 s, 1.6 s) holds 6.
    at(100, 600, 700, 800, 1_100, 1_500, 1_550, 2_700);
    expect(w.max()).toBe(6);
  });

  it('keeps the most seen, after the rate falls', () => {
    const { w, at } = windowOnClock();
    at(0, 1, 2, 3, 4);
    for (let t = 10_000; t < 20_000; t += 500) at(t);
    expect(w.max()).toBe(5);
  });

  it('holds only the last window of arrival times, however long it runs', () => {
    const { w, at } = windowOnClock();
    // 200,000 arrivals at 100/s: the answer stays 100 and the held times stay about one window's worth.
    for (let i = 0; i < 200_000; i++) at(i * 10);
    expect(w.max()).toBe(100);
    const held = (w as unknown as { times: number[]; head: number }).times.length;
    expect(held).toBeLessThanOrEqual(2 * 1024 + 100);
  });

  it('starts over on reset', () => {
    const { w, at } = windowOnClock();
    at(0, 1, 2);
    w.reset();
    expect(w.max()).toBe(0);
    at(3);
    expect(w.max()).toBe(1);
  });
});

describe('RequestCounter.mostInAnySecond', () => {
  it('counts creates and polls together, and resets with the other counts', () => {
    let now = 0;
    const counter = new RequestCounter(() => now);
    for (const [t, kind] of [
      [0, 'create'],
      [400, 'poll'],
      [900, 'poll'],
      [1_000, 'create'],
      [1_300, 'poll'],
    ] as const) {
      now = t;
      counter.arrived();
      if (kind === 'create') counter.create('veo2');
      else counter.poll('g');
    }
    // [400, 1400) holds 4: two polls, a create, a poll.
    expect(counter.snapshot().mostInAnySecond).toBe(4);
    counter.reset();
    expect(counter.snapshot().mostInAnySecond).toBe(0);
  });
});
