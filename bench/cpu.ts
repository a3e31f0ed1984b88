/**
 * Watches a process's CPU time from outside, through /proc, so it costs the
 * process nothing: when it was last busy, and how much CPU it used.
 */
import { readFileSync } from 'node:fs';
import { nowMs } from './loadgen.js';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat, fixed at 100 in the Linux ABI. */
const TICKS_PER_SECOND = 100;

/** utime + stime of every thread, live and exited, in clock ticks. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

export class CpuWatch {
  private readonly times: number[] = [];
  private readonly ticks: number[] = [];
  private readonly timer: NodeJS.Timeout;
  /** nowMs() of the last sample in which the process used CPU. */
  lastBusyAt?: number;

  constructor(
    private readonly pid: number,
    readonly intervalMs = 10,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const t = cpuTicks(this.pid);
    if (t === undefined) return;
    const now = nowMs();
    const prev = this.ticks[this.ticks.length - 1];
    if (prev !== undefined && t > prev) this.lastBusyAt = now;
    this.times.push(now);
    this.ticks.push(t);
  }

  /** Milliseconds since the process last used CPU after `since`, or 0 if it has not been busy since then. */
  idleMs(since: number): number {
    if (this.lastBusyAt === undefined || this.lastBusyAt < since) return 0;
    return nowMs() - this.lastBusyAt;
  }

  private ticksAt(t: number): number {
    // The first sample at or after t: ticks are counted at the end of the interval they were used in.
    let lo = 0;
    let hi = this.times.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return this.ticks[lo]!;
  }

  /** CPU seconds used between two nowMs() times, to the tick (10 ms). */
  cpuSeconds(from: number, to: number): number {
    return (this.ticksAt(to) - this.ticksAt(from)) / TICKS_PER_SECOND;
  }

  /**
   * Waits until the process has been idle for `quietMs` after `since`, or
   * `limitMs` passes; resolves with the time it was last busy.
   */
  async settled(since: number, quietMs: number, limitMs: number): Promise<number | undefined> {
    const until = nowMs() + limitMs;
    while (nowMs() < until) {
      if (this.lastBusyAt !== undefined && this.lastBusyAt >= since && nowMs() - this.lastBusyAt >= quietMs) return this.lastBusyAt;
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
    return undefined;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Resident set size (VmRSS) of a process over time, from /proc. */
export class RssWatch {
  readonly samples: { readonly at: number; readonly bytes: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    readonly intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (m) this.samples.push({ at: nowMs(), bytes: Number(m[1]) * 1024 });
    } catch {
      // The process is gone; the samples so far stand.
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
