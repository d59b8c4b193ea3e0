import { retryDelayMs } from '../../../../src/upstream/health/retry-delay';

describe('retryDelayMs', () => {
  it('doubles per retry with equal jitter: between half and all of the doubled delay, never above the cap', () => {
    for (let i = 0; i < 200; i++) {
      const first = retryDelayMs(0, 250, 5_000);
      expect(first).toBeGreaterThanOrEqual(125);
      expect(first).toBeLessThanOrEqual(250);
      const third = retryDelayMs(2, 250, 5_000);
      expect(third).toBeGreaterThanOrEqual(500);
      expect(third).toBeLessThanOrEqual(1_000);
      const capped = retryDelayMs(10, 250, 5_000);
      expect(capped).toBeGreaterThanOrEqual(2_500);
      expect(capped).toBeLessThanOrEqual(5_000);
    }
  });
});
