import { type Alarm, stripControlChars } from '../protocol/index.ts';

/**
 * What to show for a batch of alarms: pure functions of the alarms, the user's settings and the time.
 * Every alarm reaches history; this only decides which desktop notifications to raise.
 */

export type Urgency = 'low' | 'normal' | 'critical';
/** `none`: silent; `default`: the desktop's message sound; `alarm`: an alarm sound, for priority 5. */
export type Sound = 'none' | 'default' | 'alarm';

export interface NotificationSettings {
  /** Do-not-disturb until this epoch ms (null: not paused). Alarms still go to history. */
  readonly pausedUntil: number | null;
  /** Priority-5 alarms are shown even while paused. */
  readonly urgentPiercesPause: boolean;
  /** At most this many notifications per batch; beyond it the rest are summed up in one. */
  readonly maxToasts: number;
  /** Alarms below this priority are kept in history without a notification. */
  readonly minPriority: number;
  /** Priority-5 popups stay until dismissed; otherwise every popup expires. Default false. */
  readonly stickyUrgent?: boolean;
}

export const DEFAULT_SETTINGS: NotificationSettings = {
  pausedUntil: null,
  urgentPiercesPause: true,
  maxToasts: 4,
  minPriority: 1,
};

/** A notification to raise: one alarm, the summary of many, or a notice about the service itself. */
export interface Toast {
  readonly kind: 'alarm' | 'summary' | 'notice';
  readonly title: string;
  readonly body: string;
  readonly urgency: Urgency;
  readonly sound: Sound;
  /** The alarms it stands for (one for `alarm`). */
  readonly alarmIds: readonly string[];
  /** A link to open on click (alarms only). */
  readonly url?: string;
  /** Stays until dismissed (urgent, and the user asked for it); every other popup expires. */
  readonly sticky?: boolean;
}

export interface NotificationPlan {
  /** In the order to raise them: the most urgent first, the summary last. */
  readonly toasts: readonly Toast[];
  /** Alarms not raised because of pause or minimum priority (they are in history). */
  readonly silenced: readonly Alarm[];
}

/** ntfy's scale: 1 min, 2 low, 3 default, 4 high, 5 max/urgent. */
export function urgencyFor(priority: number): Urgency {
  if (priority >= 5) return 'critical';
  if (priority <= 2) return 'low';
  return 'normal';
}

export function soundFor(priority: number): Sound {
  if (priority >= 5) return 'alarm';
  if (priority <= 2) return 'none';
  return 'default';
}

function isPaused(settings: NotificationSettings, now: number): boolean {
  return settings.pausedUntil !== null && now < settings.pausedUntil;
}

/** Publisher text, made safe to display: no control characters (newlines and tabs stay). */
export function cleanText(text: string): string {
  return stripControlChars(text);
}

export function toastFor(alarm: Alarm, sticky = false): Toast {
  const where = alarm.topic ?? alarm.user;
  const body = alarm.body ?? (where === undefined ? '' : `#${where}`);
  return {
    kind: 'alarm',
    title: cleanText(alarm.title).replace(/[\r\n\t]+/g, ' '),
    body: cleanText(body),
    sticky: sticky && alarm.priority >= 5,
    urgency: urgencyFor(alarm.priority),
    sound: soundFor(alarm.priority),
    alarmIds: [alarm.id],
    ...(alarm.url === undefined ? {} : { url: alarm.url }),
  };
}

/** Most urgent first; among equals the oldest first (ids are opaque, so by server time, then arrival). */
function byUrgency(batch: readonly Alarm[]): Alarm[] {
  return batch
    .map((alarm, index) => ({ alarm, index }))
    .sort((a, b) => b.alarm.priority - a.alarm.priority || a.alarm.time - b.alarm.time || a.index - b.index)
    .map((entry) => entry.alarm);
}

const SUMMARY_TITLES = 3;

/** One toast standing for many alarms: silent, never sticky, pointing at the history. */
export function summaryFor(rest: readonly Alarm[], title?: string): Toast {
  const top = Math.max(...rest.map((a) => a.priority));
  const titles = rest.slice(0, SUMMARY_TITLES).map((a) => cleanText(a.title).replace(/[\r\n\t]+/g, ' '));
  const more = rest.length - titles.length;
  return {
    kind: 'summary',
    title: title ?? `${rest.length} more ${rest.length === 1 ? 'alarm' : 'alarms'}`,
    body: more > 0 ? `${titles.join(', ')} and ${more} more` : titles.join(', '),
    urgency: urgencyFor(top),
    sound: 'none',
    alarmIds: rest.map((a) => a.id),
    sticky: false,
  };
}

/**
 * The notifications for one batch (alarms that arrived together: a replay after wake, a burst):
 * - paused: nothing, except priority 5 when `urgentPiercesPause`;
 * - below `minPriority`: nothing;
 * - at most `maxToasts`: when more qualify, the most urgent `maxToasts - 1` individually and one summary
 *   ("12 more alarms") for the rest, instead of a toast storm. The summary is silent: the individual
 *   toasts already made their sound.
 */
export function planNotifications(
  batch: readonly Alarm[],
  settings: NotificationSettings,
  now: number,
): NotificationPlan {
  const paused = isPaused(settings, now);
  const eligible: Alarm[] = [];
  const silenced: Alarm[] = [];
  for (const alarm of batch) {
    const allowedWhilePaused = settings.urgentPiercesPause && alarm.priority >= 5;
    if (alarm.priority < settings.minPriority || (paused && !allowedWhilePaused)) silenced.push(alarm);
    else eligible.push(alarm);
  }
  const ordered = byUrgency(eligible);
  const max = Math.max(1, Math.floor(settings.maxToasts));
  const sticky = settings.stickyUrgent === true;
  if (ordered.length <= max) return { toasts: ordered.map((a) => toastFor(a, sticky)), silenced };
  const shown = ordered.slice(0, max - 1);
  const rest = ordered.slice(max - 1);
  return { toasts: [...shown.map((a) => toastFor(a, sticky)), summaryFor(rest)], silenced };
}
