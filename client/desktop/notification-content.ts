import type { Alarm, AlarmAction } from '../../protocol/alarm.ts';
import { stripControlChars } from '../../protocol/control-chars.ts';
import { isOpenableUrl } from '../../protocol/web-url.ts';
import type { Toast } from '../policy.ts';

/** A button on a notification: ntfy's `view` (open a link) or `http` (send a request). */
export type ButtonAction = Extract<AlarmAction, { action: 'view' } | { action: 'http' }>;

/** What one native notification shows: everything Electron's Notification needs, decided here. */
export interface NotificationContent {
  readonly title: string;
  readonly body: string;
  readonly urgency: Toast['urgency'];
  readonly silent: boolean;
  readonly timeoutType: 'default' | 'never';
  /** macOS: a system sound name for priority-5 alarms (the other OSes use their urgency). */
  readonly sound?: string;
  /** Button labels in order; `buttons[i]` is what pressing button i does. */
  readonly buttons: readonly ButtonAction[];
}

/**
 * Escapes text for libnotify's body markup: notification servers that announce `body-markup`
 * (GNOME Shell, KDE, dunst…) parse `<b>`, `<a>`, `&amp;` in bodies, so a raw `<` or `&` from an
 * alarm would vanish, mangle the text or drop the whole body.
 */
export function escapeNotificationMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Buttons are shown where Electron supports them (macOS, Windows) and only for actions we can do. */
export function notificationButtons(
  alarm: Alarm | undefined,
  platform: NodeJS.Platform,
): readonly ButtonAction[] {
  if (alarm?.actions === undefined || (platform !== 'darwin' && platform !== 'win32')) return [];
  return alarm.actions.filter(
    (a): a is ButtonAction => (a.action === 'view' && isOpenableUrl(a.url)) || a.action === 'http',
  );
}

/** The priority-5 alarm sound on macOS (a system sound: no file to ship). */
export const MAC_ALARM_SOUND = 'Sosumi';

export function notificationContent(
  toast: Toast,
  alarm: Alarm | undefined,
  platform: NodeJS.Platform,
): NotificationContent {
  // Titles are one line; bodies keep their newlines. Control characters never reach the OS.
  const title = stripControlChars(toast.title).replace(/[\r\n\t]+/g, ' ');
  const plainBody = stripControlChars(toast.body);
  const body = platform === 'linux' ? escapeNotificationMarkup(plainBody) : plainBody;
  const alarmSound = toast.sound === 'alarm' && platform === 'darwin';
  return {
    title,
    body,
    urgency: toast.urgency,
    silent: toast.sound === 'none',
    // Popups expire, urgent ones included, unless the user asked urgent ones to stay (stickyUrgent).
    timeoutType: toast.sticky === true ? 'never' : 'default',
    ...(alarmSound && { sound: MAC_ALARM_SOUND }),
    buttons: notificationButtons(alarm, platform),
  };
}
