import type { Registry } from './registry.ts';

export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemTimers: IntervalTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Streams written per event-loop turn during a heartbeat round: about 15 µs each, so a slice keeps
 * the loop for a few milliseconds at most (1 000 per slice measured 30 ms at 20 000 streams).
 */
export const HEARTBEAT_SLICE = 200;

/**
 * One timer for all streams: every interval, its format's heartbeat to each open stream. Keeps idle
 * connections alive through proxies and NATs and gives clients' watchdogs bytes to see.
 */
export function startHeartbeat(
  registry: Registry,
  intervalMs: number,
  timers: IntervalTimers,
  now: () => number = Date.now,
): () => void {
  let stopped = false;
  const handle = timers.setInterval(() => {
    const sessions = registry.snapshot();
    const at = now();
    // In slices, yielding between them: a round over 100k streams must not stall publishes and
    // fan-out for its whole duration.
    const slice = (from: number) => {
      if (stopped) return;
      const to = Math.min(from + HEARTBEAT_SLICE, sessions.length);
      for (let i = from; i < to; i++) {
        const session = sessions[i];
        session?.write(session.format.heartbeat(at));
      }
      if (to < sessions.length) setImmediate(slice, to);
    };
    slice(0);
  }, intervalMs);
  return () => {
    stopped = true;
    timers.clearInterval(handle);
  };
}
