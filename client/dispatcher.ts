import type { Alarm } from '../protocol/index.ts';
import type { Agent, AlarmInfo } from './agent.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import type { Notifier } from './notifier.ts';
import { type NotificationSettings, planNotifications, type Toast } from './policy.ts';

export interface DispatcherOptions {
  readonly notifier: Notifier;
  /** Read at every batch, so a pause set in the UI applies to the next alarm. */
  readonly settings: () => NotificationSettings;
  readonly clock?: Clock;
  /** Live alarms arriving within this window of the first one form one batch. */
  readonly burstWindowMs?: number;
  /** A notification that could not be raised (the alarm is still in history). */
  readonly onError?: (error: unknown, toast: Toast) => void;
}

const DEFAULT_BURST_WINDOW_MS = 400;

/**
 * Turns delivered alarms into desktop notifications through the pure policy: replayed alarms are held
 * until `ready` and planned as one batch (the storm after a wake becomes a few toasts and a summary);
 * live alarms are batched over a short window. Notifications are raised one at a time, in plan order.
 */
export class NotificationDispatcher {
  readonly #options: DispatcherOptions;
  readonly #clock: Clock;
  readonly #windowMs: number;
  #replayBatch: Alarm[] = [];
  #liveBatch: Alarm[] = [];
  #timer: TimerHandle | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#windowMs = options.burstWindowMs ?? DEFAULT_BURST_WINDOW_MS;
  }

  /** Feeds this dispatcher from an agent; returns the function that detaches it. */
  attach(agent: Agent): () => void {
    const onAlarm = (alarm: Alarm, info: AlarmInfo) => this.push(alarm, info);
    const onReady = () => this.releaseReplay();
    agent.on('alarm', onAlarm);
    agent.on('ready', onReady);
    return () => {
      agent.off('alarm', onAlarm);
      agent.off('ready', onReady);
    };
  }

  push(alarm: Alarm, info: AlarmInfo): void {
    if (info.replayed) {
      this.#replayBatch.push(alarm);
      return;
    }
    this.#liveBatch.push(alarm);
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#plan(this.#takeLive());
    }, this.#windowMs);
  }

  /** The replay is complete: plan what it brought (together with any live alarms already waiting). */
  releaseReplay(): void {
    const batch = [...this.#replayBatch, ...this.#takeLive()];
    this.#replayBatch = [];
    this.#plan(batch);
  }

  /** A notice about the service itself (a gap, a reset), raised right away. */
  notice(title: string, body: string): void {
    this.#raise([{ kind: 'notice', title, body, urgency: 'normal', sound: 'none', alarmIds: [] }]);
  }

  /** Plans whatever is waiting and resolves once every notification was handed to the notifier. */
  async flush(): Promise<void> {
    const batch = [...this.#replayBatch, ...this.#takeLive()];
    this.#replayBatch = [];
    this.#plan(batch);
    await this.#queue;
  }

  #takeLive(): Alarm[] {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#liveBatch;
    this.#liveBatch = [];
    return batch;
  }

  #plan(batch: Alarm[]): void {
    if (batch.length === 0) return;
    const plan = planNotifications(batch, this.#options.settings(), this.#clock.now());
    this.#raise(plan.toasts);
  }

  #raise(toasts: readonly Toast[]): void {
    for (const toast of toasts) {
      this.#queue = this.#queue.then(() =>
        this.#options.notifier.notify(toast).catch((error: unknown) => this.#options.onError?.(error, toast)),
      );
    }
  }
}
