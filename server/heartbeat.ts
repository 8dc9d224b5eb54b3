import type { Registry } from './registry.ts';
import { HEARTBEAT_FRAME } from './sse.ts';

export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemTimers: IntervalTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

const HEARTBEAT_BYTES = Buffer.from(HEARTBEAT_FRAME);

/**
 * One timer for all streams: every interval, a comment frame to each open stream. Keeps idle
 * connections alive through proxies and NATs and gives clients' watchdogs bytes to see.
 */
export function startHeartbeat(registry: Registry, intervalMs: number, timers: IntervalTimers): () => void {
  const handle = timers.setInterval(() => {
    registry.forEach((session) => {
      session.write(HEARTBEAT_BYTES);
    });
  }, intervalMs);
  return () => timers.clearInterval(handle);
}
