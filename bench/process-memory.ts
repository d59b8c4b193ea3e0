/**
 * Another process's resident memory, read from Linux's /proc (so a process too busy to answer is
 * still measured): now, its peak, and a sampler for a phase of a benchmark.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { sleep } from './stats';

/** A `kB` field of /proc/<pid>/status in bytes; 0 where there is no /proc or no such process. */
function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident set size of `pid` in bytes (0 where there is no /proc). */
export function rssOf(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/**
 * Starts counting `pid`'s peak RSS (VmHWM) afresh from its current RSS (Linux ≥ 4.0, our own
 * processes); false where that is not possible, and the peak then counts from the process's start.
 */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface RssWatch {
  /** RSS when the watch began, in bytes. */
  readonly before: number;
  /** Ends the watch: the highest RSS seen since it began, in bytes. */
  stop(): Promise<number>;
}

/**
 * Watches `pid`'s RSS from now on: samples every `everyMs`, and where the kernel's peak could be
 * reset, its exact peak (VmHWM) too, so a spike between two samples still counts.
 */
export function watchRss(pid: number, everyMs = 20): RssWatch {
  const exactPeak = resetPeakRss(pid);
  const before = rssOf(pid);
  let peak = before;
  let running = true;
  const sampling = (async () => {
    while (running) {
      peak = Math.max(peak, rssOf(pid));
      await sleep(everyMs);
    }
  })();
  return {
    before,
    async stop() {
      running = false;
      await sampling;
      return Math.max(peak, rssOf(pid), exactPeak ? statusField(pid, 'VmHWM') : 0);
    },
  };
}
