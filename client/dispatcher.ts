import type { Alarm } from '../protocol/index.ts';
import type { Agent, AlarmInfo } from './agent.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { type BudgetOptions, NotificationBudget } from './notification-budget.ts';
import type { Notifier } from './notifier.ts';
import { type NotificationSettings, planNotifications, summaryFor, type Toast } from './policy.ts';

export interface DispatcherOptions {
  readonly notifier: Notifier;
  /** Read at every batch, so a pause set in the UI applies to the next alarm. */
  readonly settings: () => NotificationSettings;
  readonly clock?: Clock;
  /** Live alarms arriving within this window of the first one form one batch. */
  readonly burstWindowMs?: number;
  /** The storm budget (popups per minute, summary and sound intervals). */
  readonly budget?: Partial<BudgetOptions>;
  /** A notification that could not be raised (the alarm is still in history). */
  readonly onError?: (error: unknown, toast: Toast) => void;
}

const DEFAULT_BURST_WINDOW_MS = 400;

/**
 * Turns delivered alarms into desktop notifications: the same policy for `tocsin listen --notify`
 * and the desktop app.
 * - Replayed alarms are held until `ready` and planned as one batch; live ones are batched over a
 *   short window. A batch shows its most urgent alarms first, the rest summed up.
 * - A backlog (first run, a server reset) becomes one summary: it is history, not news.
 * - A global budget caps popups (a token bucket); what it holds back is summed up in at most one
 *   "N more alarms — open history" per interval. Alarm sounds are throttled; popups expire unless
 *   urgent and configured sticky.
 */
export class NotificationDispatcher {
  readonly #options: DispatcherOptions;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #budget: NotificationBudget;
  #replayBatch: Alarm[] = [];
  #backlog: Alarm[] = [];
  #liveBatch: Alarm[] = [];
  /** When the live batch's first alarm arrived (wall clock): pause is judged at arrival, not at flush. */
  #liveSince = 0;
  #overflow: Alarm[] = [];
  #timer: TimerHandle | undefined;
  #summaryTimer: TimerHandle | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#windowMs = options.burstWindowMs ?? DEFAULT_BURST_WINDOW_MS;
    this.#budget = new NotificationBudget(options.budget);
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

  push(alarm: Alarm, info: Pick<AlarmInfo, 'replayed'> & Partial<AlarmInfo>): void {
    if (info.backlog === true) {
      this.#backlog.push(alarm);
      return;
    }
    if (info.replayed) {
      this.#replayBatch.push(alarm);
      return;
    }
    if (this.#liveBatch.length === 0) this.#liveSince = this.#clock.now();
    this.#liveBatch.push(alarm);
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const at = this.#liveSince;
      this.#plan(this.#takeLive(), at);
    }, this.#windowMs);
  }

  /** The replay is complete: plan what it brought (together with any live alarms already waiting). */
  releaseReplay(): void {
    this.#releaseBacklog();
    const batch = [...this.#replayBatch, ...this.#takeLive()];
    this.#replayBatch = [];
    this.#plan(batch);
  }

  /** A notice about the service itself (a gap, a reset), raised right away. */
  notice(title: string, body: string): void {
    this.#raise({
      kind: 'notice',
      title,
      body,
      urgency: 'normal',
      sound: 'none',
      alarmIds: [],
      sticky: false,
    });
  }

  /**
   * Plans whatever is waiting, raises the pending summary now, and resolves once every notification
   * was handed to the notifier.
   */
  async flush(): Promise<void> {
    this.releaseReplay();
    if (this.#summaryTimer !== undefined) this.#clock.clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
    this.#raiseSummary();
    await this.#queue;
  }

  #takeLive(): Alarm[] {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#liveBatch;
    this.#liveBatch = [];
    return batch;
  }

  #releaseBacklog(): void {
    const backlog = this.#backlog;
    this.#backlog = [];
    if (backlog.length === 0) return;
    const settings = this.#options.settings();
    const { toasts } = planNotifications(
      backlog,
      { ...settings, maxToasts: Number.MAX_SAFE_INTEGER },
      this.#clock.now(),
    );
    if (toasts.length === 0) return;
    const shown = new Set(toasts.flatMap((t) => t.alarmIds));
    const alarms = backlog.filter((a) => shown.has(a.id));
    this.#raise(
      summaryFor(
        alarms,
        `${alarms.length} ${alarms.length === 1 ? 'alarm' : 'alarms'} from before — open history`,
      ),
    );
  }

  /** `at`: when the batch arrived; an alarm that came in during a pause stays silent after it. */
  #plan(batch: Alarm[], at = this.#clock.now()): void {
    if (batch.length === 0) return;
    const plan = planNotifications(batch, this.#options.settings(), at);
    const byId = new Map(batch.map((a) => [a.id, a]));
    const now = this.#clock.monotonic();
    for (const toast of plan.toasts) {
      if (toast.kind === 'alarm' && this.#budget.takePopup(now, toast.urgency === 'critical')) {
        this.#raise({ ...toast, sound: this.#budget.sound(toast.sound, now) });
        continue;
      }
      for (const id of toast.alarmIds) {
        const alarm = byId.get(id);
        if (alarm !== undefined) this.#overflow.push(alarm);
      }
    }
    this.#scheduleSummary();
  }

  #scheduleSummary(): void {
    if (this.#overflow.length === 0 || this.#summaryTimer !== undefined) return;
    const wait = this.#budget.summaryWait(this.#clock.monotonic());
    if (wait === 0) {
      this.#raiseSummary();
      return;
    }
    this.#summaryTimer = this.#clock.setTimeout(() => {
      this.#summaryTimer = undefined;
      this.#raiseSummary();
    }, wait);
  }

  #raiseSummary(): void {
    const rest = this.#overflow;
    if (rest.length === 0) return;
    this.#overflow = [];
    this.#budget.summaryRaised(this.#clock.monotonic());
    // Most urgent titles first in the body.
    const ordered = [...rest].sort((a, b) => b.priority - a.priority);
    this.#raise(
      summaryFor(ordered, `${rest.length} more ${rest.length === 1 ? 'alarm' : 'alarms'} — open history`),
    );
  }

  #raise(toast: Toast): void {
    this.#queue = this.#queue.then(() =>
      this.#options.notifier.notify(toast).catch((error: unknown) => this.#options.onError?.(error, toast)),
    );
  }
}
