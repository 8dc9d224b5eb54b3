import type { Clock, TimerHandle } from './clock.ts';

/**
 * What the system tells the agent about sleep and the network. The Electron shell feeds it from
 * `powerMonitor` ('suspend', 'resume') and the network status ('online', 'offline'); the CLI has no
 * such source on most machines and relies on the drift detector below.
 */
export type PowerEvent = 'suspend' | 'resume' | 'online' | 'offline';

export interface PowerEvents {
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: PowerEvent) => void): () => void;
}

/** A PowerEvents the shell pushes into: `hub.emit('suspend')` from powerMonitor's handler. */
export class PowerEventHub implements PowerEvents {
  readonly #listeners = new Set<(event: PowerEvent) => void>();

  emit(event: PowerEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  subscribe(listener: (event: PowerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface DriftOptions {
  /** How often to tick. */
  readonly intervalMs: number;
  /** A tick this much later than scheduled means the machine was asleep (or the clock jumped). */
  readonly thresholdMs: number;
}

export const DEFAULT_DRIFT: DriftOptions = { intervalMs: 5_000, thresholdMs: 30_000 };

/**
 * Detects a system sleep or a wall-clock step without any OS signal, by comparing two clocks each
 * tick: the wall clock keeps moving while the machine sleeps (and jumps when NTP or a person sets
 * it), the monotonic clock does neither. A skew between how far each moved, or a tick far later than
 * its monotonic deadline (platforms whose monotonic clock runs on through sleep), means the world
 * changed under us: one harmless reconnect. logind-less Linux gives Electron no suspend/resume events
 * at all; this still works there.
 */
export class DriftDetector {
  readonly #clock: Clock;
  readonly #options: DriftOptions;
  readonly #onDrift: (driftMs: number) => void;
  #timer: TimerHandle | undefined;
  #expectedAt = 0;
  #lastWall = 0;
  #lastMono = 0;

  constructor(clock: Clock, options: DriftOptions, onDrift: (driftMs: number) => void) {
    if (options.intervalMs <= 0 || options.thresholdMs <= 0)
      throw new RangeError('drift intervals must be positive');
    this.#clock = clock;
    this.#options = options;
    this.#onDrift = onDrift;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer === undefined) this.#schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#lastWall = this.#clock.now();
    this.#lastMono = this.#clock.monotonic();
    this.#expectedAt = this.#lastMono + this.#options.intervalMs;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#options.intervalMs);
  }

  #tick(): void {
    const wall = this.#clock.now() - this.#lastWall;
    const mono = this.#clock.monotonic() - this.#lastMono;
    const late = this.#clock.monotonic() - this.#expectedAt;
    const skew = wall - mono;
    this.#schedule();
    const drift = Math.abs(skew) >= Math.abs(late) ? skew : late;
    if (Math.abs(drift) >= this.#options.thresholdMs) this.#onDrift(drift);
  }
}
