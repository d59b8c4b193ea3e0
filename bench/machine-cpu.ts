/**
 * The whole machine's CPU time from Linux's /proc/stat, so a benchmark can say whether the machine,
 * not the code under test, was the limit: busy, idle and stolen (taken by the host of a virtual machine).
 */
import { readFileSync } from 'node:fs';

/** Cumulative CPU time of every core since boot, in ms (zeros where there is no /proc). */
export interface MachineCpu {
  busyMs: number;
  idleMs: number;
  stealMs: number;
}

/** /proc/stat counts in USER_HZ ticks, 100 per second on every Linux that Node runs on. */
const MS_PER_TICK = 10;

export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
    return {
      busyMs: (user! + nice! + system! + irq! + softirq!) * MS_PER_TICK,
      idleMs: (idle! + iowait!) * MS_PER_TICK,
      stealMs: (steal ?? 0) * MS_PER_TICK,
    };
  } catch {
    return { busyMs: 0, idleMs: 0, stealMs: 0 };
  }
}

/** What the machine did between two readings. */
export function machineCpuSince(before: MachineCpu): MachineCpu {
  const now = machineCpu();
  return { busyMs: now.busyMs - before.busyMs, idleMs: now.idleMs - before.idleMs, stealMs: now.stealMs - before.stealMs };
}
