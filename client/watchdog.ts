import type { Clock, TimerHandle } from './clock.ts';

/** The `ready` frame announces the heartbeat interval; silence for this many intervals means dead. */
export const HEARTBEAT_TOLERANCE = 2.5;

/**
 * Fires once when no activity was seen for `timeoutMs`. `feed()` is called for every chunk of the
 * response body, so it only records a timestamp; the single timer re-arms itself for the remainder
 * instead of being reset per chunk.
 */
export class Watchdog {
  readonly #clock: Clock;
  readonly #onExpire: () => void;
  #timeoutMs: number;
  #lastActivity: number;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(clock: Clock, timeoutMs: number, onExpire: () => void) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#onExpire = onExpire;
    this.#lastActivity = clock.monotonic();
    this.#arm(timeoutMs);
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Any sign of life. */
  feed(): void {
    this.#lastActivity = this.#clock.monotonic();
  }

  /** Changes the allowed silence (e.g. once `ready` announced the heartbeat), counting from now. */
  reset(timeoutMs: number): void {
    if (this.#stopped) return;
    this.#timeoutMs = timeoutMs;
    this.#lastActivity = this.#clock.monotonic();
    this.#disarm();
    this.#arm(timeoutMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#check(), ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    // Monotonic: a wall clock stepped back must not make a dead connection look fresh.
    const silentFor = this.#clock.monotonic() - this.#lastActivity;
    if (silentFor >= this.#timeoutMs) {
      this.#stopped = true;
      this.#onExpire();
      return;
    }
    this.#arm(this.#timeoutMs - silentFor);
  }
}
