/**
 * Time as the agent sees it. Everything that waits (backoff, Retry-After, the heartbeat watchdog,
 * sleep detection) goes through this, so tests can drive time exactly instead of sleeping.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Wall-clock milliseconds since the epoch: jumps forward across a system sleep. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Timers stay ref'd on purpose: while the CLI waits out a backoff no socket is open,
 * and the pending reconnect is what keeps `tocsin listen` alive. `Agent.stop()` clears them all.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
