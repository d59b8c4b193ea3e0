/**
 * What stalls a server's main thread over a load window: its event-loop delay (libuv's own
 * histogram, `monitorEventLoopDelay`) and its garbage-collection pauses by kind (`perf_hooks` GC
 * entries). A server host measures itself with it, so a latency tail can be traced to GC or to
 * work that holds the loop (see BENCHMARKS.md, "Profiles").
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';

export interface PauseWindow {
  /** Event-loop delay percentiles over the window (sampled every 1 ms), ms. */
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** GC pauses over the window: count, total and longest, by kind. */
  gc: Record<'minor' | 'major' | 'incremental' | 'weakcb', { count: number; totalMs: number; maxMs: number }>;
}

const KINDS: Record<number, keyof PauseWindow['gc']> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export class PauseMonitor {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private gc: PauseWindow['gc'] = emptyGc();
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[(entry as PerformanceEntry & { detail?: { kind: number } }).detail?.kind ?? -1];
      if (!kind) continue;
      const k = this.gc[kind];
      k.count++;
      k.totalMs += entry.duration;
      k.maxMs = Math.max(k.maxMs, entry.duration);
    }
  });

  constructor() {
    this.delay.enable();
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** The window since the last call (or since start), and a new window from now. */
  take(): PauseWindow {
    const ms = (ns: number) => ns / 1e6;
    const out: PauseWindow = {
      loopDelayP50Ms: ms(this.delay.percentile(50)),
      loopDelayP99Ms: ms(this.delay.percentile(99)),
      loopDelayMaxMs: ms(this.delay.max),
      gc: this.gc,
    };
    this.delay.reset();
    this.gc = emptyGc();
    return out;
  }
}

function emptyGc(): PauseWindow['gc'] {
  const zero = () => ({ count: 0, totalMs: 0, maxMs: 0 });
  return { minor: zero(), major: zero(), incremental: zero(), weakcb: zero() };
}
