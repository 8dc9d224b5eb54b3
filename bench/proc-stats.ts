/**
 * Memory and CPU of a server under test read from /proc (Linux), the same way for every server,
 * whatever metrics it does or does not export.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * CPU time in nanoseconds, all threads (main, GC helpers, libuv pool): the first field of each
 * thread's schedstat is its on-CPU time in ns, far finer than the 10 ms ticks of /proc/PID/stat.
 */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between readdir and read: its time is gone with it (tiny).
    }
  }
  return total;
}
