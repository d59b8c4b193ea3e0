import { UpstreamBackoff } from '../../../../src/upstream/health/backoff';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('UpstreamBackoff', () => {
  it('starts with no pause', () => {
    const c = clock();
    expect(new UpstreamBackoff(1_000, 60_000, c.now).remainingMs()).toBe(0);
  });

  it('honours Retry-After and counts down to zero', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    b.trip(7_000);
    expect(b.remainingMs()).toBe(7_000);
    c.advance(2_500);
    expect(b.remainingMs()).toBe(4_500);
    c.advance(4_500);
    expect(b.remainingMs()).toBe(0);
    c.advance(10_000);
    expect(b.remainingMs()).toBe(0);
  });

  it('without Retry-After, doubles on each consecutive 429 from the base', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    const pauses: number[] = [];
    for (let i = 0; i < 5; i++) {
      b.trip(null);
      pauses.push(b.remainingMs());
      c.advance(b.remainingMs());
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('caps any pause at the maximum, Retry-After included', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 10_000, c.now);
    for (let i = 0; i < 20; i++) b.trip(null);
    expect(b.remainingMs()).toBe(10_000);
    c.advance(10_000);
    b.trip(3_600_000);
    expect(b.remainingMs()).toBe(10_000);
  });

  it('keeps a huge consecutive count finite', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    for (let i = 0; i < 5_000; i++) b.trip(null);
    expect(b.remainingMs()).toBe(60_000);
  });

  it('a shorter trip never shortens a pause in progress', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    b.trip(30_000);
    c.advance(1_000);
    b.trip(2_000);
    expect(b.remainingMs()).toBe(29_000);
    b.trip(45_000);
    expect(b.remainingMs()).toBe(45_000);
  });

  it('reset restarts the exponential sequence at the base, without cutting the current pause', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    b.trip(null);
    c.advance(1_000);
    b.trip(null);
    expect(b.remainingMs()).toBe(2_000);
    b.reset();
    expect(b.remainingMs()).toBe(2_000);
    c.advance(2_000);
    b.trip(null);
    expect(b.remainingMs()).toBe(1_000);
  });

  it('a Retry-After trip still counts towards the exponential sequence', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    b.trip(500);
    c.advance(500);
    b.trip(null);
    expect(b.remainingMs()).toBe(2_000);
  });

  it('Retry-After: 0 means no pause', () => {
    const c = clock();
    const b = new UpstreamBackoff(1_000, 60_000, c.now);
    b.trip(0);
    expect(b.remainingMs()).toBe(0);
  });

  it('uses Date.now by default', () => {
    const b = new UpstreamBackoff(5_000, 60_000);
    b.trip(null);
    expect(b.remainingMs()).toBeGreaterThan(4_000);
    expect(b.remainingMs()).toBeLessThanOrEqual(5_000);
  });
});
