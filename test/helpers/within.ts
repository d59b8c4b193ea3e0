/**
 * A bounded wait, shared by the tests and the benchmarks (which compile without Jest's types, so
 * this module imports nothing but Node).
 */

/** Rejects after `ms` so a stuck wait (a subscription, a round of work) fails instead of hanging. */
export function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
