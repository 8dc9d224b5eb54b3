import type { StoreLog } from './redis.ts';

/** A probe write at most this often while writes fail, so recovery shows without alarm traffic. */
export const PROBE_INTERVAL_MS = 1_000;

/**
 * Whether a store can write, as its last write showed: a full disk, a Redis out of memory. Policy
 * only: the store reports each write's outcome; this logs the first failure and the recovery once
 * each, gives health its reason meanwhile, and says when a probe write is due.
 */
export class WriteHealth {
  readonly #log: StoreLog | undefined;
  readonly #clock: () => number;
  #failure: { since: number; message: string; failures: number; probedAt: number } | undefined;

  constructor(log: StoreLog | undefined, clock: () => number = Date.now) {
    this.#log = log;
    this.#clock = clock;
  }

  /** Why writes fail, or undefined while they work. */
  get reason(): string | undefined {
    return this.#failure === undefined ? undefined : `the store cannot write: ${this.#failure.message}`;
  }

  failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.#failure !== undefined) {
      this.#failure.failures++;
      return;
    }
    const now = this.#clock();
    this.#failure = { since: now, message, failures: 1, probedAt: now };
    this.#log?.error({ err: error }, 'the store cannot write (disk full?): alarms are refused until it can');
  }

  succeeded(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    this.#log?.warn(
      { failedForMs: this.#clock() - failure.since, failedWrites: failure.failures },
      'the store can write again',
    );
  }

  /** True (and the probe counted as started) when writes fail and no probe ran in the last interval. */
  probeDue(): boolean {
    const failure = this.#failure;
    if (failure === undefined || this.#clock() - failure.probedAt < PROBE_INTERVAL_MS) return false;
    failure.probedAt = this.#clock();
    return true;
  }
}
