import type { Sound } from './policy.ts';

/**
 * How many desktop popups a storm may cost. Shared by `tocsin listen --notify` and the desktop app
 * (both go through NotificationDispatcher).
 */
export interface BudgetOptions {
  /** Popups allowed at once after a quiet period. */
  readonly burst: number;
  /** Popups regained per minute. */
  readonly perMinute: number;
  /** At most one "N more alarms — open history" summary per this interval. */
  readonly summaryIntervalMs: number;
  /** At most one alarm sound per this interval; later urgent popups use the ordinary sound. */
  readonly alarmSoundIntervalMs: number;
  /** At most one ordinary sound per this interval; later popups are silent. */
  readonly soundIntervalMs: number;
}

export const DEFAULT_BUDGET: BudgetOptions = {
  burst: 4,
  perMinute: 6,
  summaryIntervalMs: 30_000,
  alarmSoundIntervalMs: 60_000,
  soundIntervalMs: 5_000,
};

/**
 * A token bucket for popups and rate limits for sounds and summaries, on the monotonic clock (a
 * wall-clock step neither floods nor mutes). Pure state: the caller passes the time in.
 */
export class NotificationBudget {
  readonly #options: BudgetOptions;
  #tokens: number;
  #refilledAt: number | null = null;
  #lastAlarmSound = Number.NEGATIVE_INFINITY;
  #lastSound = Number.NEGATIVE_INFINITY;
  #lastSummary = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<BudgetOptions> = {}) {
    this.#options = { ...DEFAULT_BUDGET, ...options };
    this.#tokens = this.#options.burst;
  }

  get options(): BudgetOptions {
    return this.#options;
  }

  /**
   * Takes one popup if the budget allows it now. The last token is kept for urgent alarms, so a
   * flood of ordinary ones cannot use up the popup an urgent one needs.
   */
  takePopup(now: number, urgent = false): boolean {
    this.#refill(now);
    if (this.#tokens < (urgent ? 1 : 2)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** The sound a popup raised now may make. */
  sound(wanted: Sound, now: number): Sound {
    if (wanted === 'alarm') {
      if (now - this.#lastAlarmSound >= this.#options.alarmSoundIntervalMs) {
        this.#lastAlarmSound = now;
        this.#lastSound = now;
        return 'alarm';
      }
      wanted = 'default';
    }
    if (wanted === 'default') {
      if (now - this.#lastSound >= this.#options.soundIntervalMs) {
        this.#lastSound = now;
        return 'default';
      }
      return 'none';
    }
    return 'none';
  }

  /** Ms until a summary may be raised (0: now). */
  summaryWait(now: number): number {
    return Math.max(0, this.#lastSummary + this.#options.summaryIntervalMs - now);
  }

  summaryRaised(now: number): void {
    this.#lastSummary = now;
  }

  #refill(now: number): void {
    if (this.#refilledAt !== null) {
      const gained = ((now - this.#refilledAt) * this.#options.perMinute) / 60_000;
      this.#tokens = Math.min(this.#options.burst, this.#tokens + gained);
    }
    this.#refilledAt = now;
  }
}
