import type { Clock, TimerHandle } from '../clock.ts';
import { systemClock } from '../clock.ts';

/**
 * Windows: a toast that timed out into Action Center outlives its Notification object, so a later
 * click reaches only Notification.handleActivation, which fires for every activation (also those the
 * object's own `click` handles) and does not say which alarm. A click that no live Notification
 * handled within `graceMs` either way opens the history, where the alarm is; nothing is lost and
 * nothing opens twice.
 */
export class LateActivation {
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #fallback: () => void;
  #lastHandled = Number.NEGATIVE_INFINITY;
  readonly #pending = new Set<TimerHandle>();

  constructor(options: { fallback: () => void; clock?: Clock; graceMs?: number }) {
    this.#clock = options.clock ?? systemClock;
    this.#graceMs = options.graceMs ?? 1_000;
    this.#fallback = options.fallback;
  }

  /** A live Notification's click or button handler ran. */
  handled(): void {
    this.#lastHandled = this.#clock.now();
  }

  /** handleActivation fired (click, action or reply). */
  activated(): void {
    const at = this.#clock.now();
    const timer = this.#clock.setTimeout(() => {
      this.#pending.delete(timer);
      if (Math.abs(this.#lastHandled - at) > this.#graceMs) this.#fallback();
    }, this.#graceMs);
    this.#pending.add(timer);
  }

  dispose(): void {
    for (const timer of this.#pending) this.#clock.clearTimeout(timer);
    this.#pending.clear();
  }
}
