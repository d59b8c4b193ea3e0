/** The part of autocannon's API the benchmarks use (the package ships no types). */
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Resolve with the raw result (encoded histograms) for `aggregateResult` to merge. */
    skipAggregateResult?: boolean;
  }
  interface Histogram {
    average: number;
    p50: number;
    p99: number;
    max: number;
  }
  interface Result {
    /** Per second; `total`: requests answered in the whole run. */
    requests: Histogram & { total: number };
    latency: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
    /** Answers by HTTP status code (2xx included). */
    statusCodeStats: Record<string, { count: number }>;
  }
  /** One run's figures with its histograms still encoded (`skipAggregateResult`). */
  interface RawResult {
    totalCompletedRequests: number;
    /** Seconds the run lasted. */
    duration: number;
  }
  function autocannon(options: Options & { skipAggregateResult: true }): Promise<RawResult>;
  function autocannon(options: Options): Promise<Result>;
  namespace autocannon {
    /** Merges raw results: latency percentiles over every request of every run. */
    function aggregateResult(results: RawResult[], options: { url: string; connections?: number }): Result;
  }
  export type { RawResult, Result };
  export default autocannon;
}
