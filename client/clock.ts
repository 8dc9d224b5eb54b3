/**
 * Time as the agent sees it. Everything that waits (backoff, Retry-After, the heartbeat watchdog,
 * sleep detection) goes through this, so tests can drive time exactly instead of sleeping.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Wall-clock milliseconds since the epoch: shown to people, and compared with `monotonic` to see sleep. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never step (NTP, a manual change) and, on Linux, do not
   * advance while the system sleeps. Every duration the agent measures uses this.
   */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Timers stay ref'd on purpose: while the CLI waits out a backoff no socket is open,
 * and the pending reconnect is what keeps `tocsin listen` alive. `Agent.stop()` clears them all.
 * Node's timers already run on the monotonic clock (libuv), so a wall-clock step cannot stretch them.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
