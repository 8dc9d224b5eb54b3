import type { Clock, TimerHandle } from '../../client/clock.ts';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when the test says so. Timers run on the monotonic time, in due order
 * inside `advance()`, which also runs timers that those callbacks schedule within the advanced span.
 * `jump()` and `step()` move only the wall clock, as a system sleep or an NTP step would.
 */
export class ManualClock implements Clock {
  #now: number;
  #mono = 0;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#mono + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Delays (from now) of every pending timer, soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#mono).sort((a, b) => a - b);
  }

  /** Moves both clocks forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.#timers.values()) {
        if (
          timer.at <= target &&
          (next === undefined || timer.at < next.at || (timer.at === next.at && timer.id < next.id))
        ) {
          next = timer;
        }
      }
      if (next === undefined) break;
      this.#timers.delete(next.id);
      const step = Math.max(0, next.at - this.#mono);
      this.#mono += step;
      this.#now += step;
      next.callback();
    }
    this.#now += target - this.#mono;
    this.#mono = target;
  }

  /**
   * A system sleep of `ms`, seen from inside: the wall clock moved on, the monotonic one (Linux
   * CLOCK_MONOTONIC) did not, and no timer ran.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** A wall-clock step (NTP, a manual change), forward or back. */
  step(ms: number): void {
    this.#now += ms;
  }
}

/** The real timers with a wall clock the test can push forward (a sleep, seen from inside). */
export class OffsetClock implements Clock {
  offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  monotonic(): number {
    return performance.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return setTimeout(callback, Math.max(0, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}
