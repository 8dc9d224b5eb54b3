/** Presentation rules shared by the windows: pure, unit-tested. */

const PRIORITY_LABELS: Readonly<Record<number, string>> = {
  1: 'min',
  2: 'low',
  3: 'default',
  4: 'high',
  5: 'urgent',
};

export function priorityLabel(priority: number): string {
  return PRIORITY_LABELS[priority] ?? String(priority);
}

/** "14:05" today, "Mon 14:05" this week, else "2026-11-02 14:05" (local time). */
export function formatTime(epochMs: number, now: number): string {
  const date = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const today = new Date(now);
  if (date.toDateString() === today.toDateString()) return hm;
  if (now - epochMs < 6 * 24 * 60 * 60 * 1000 && epochMs <= now) {
    return `${date.toLocaleDateString('en', { weekday: 'short' })} ${hm}`;
  }
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${hm}`;
}

/** "until 15:30" / "until tomorrow 09:00" for a pause end. */
export function formatPause(until: number | null, now: number): string {
  if (until === null || until <= now) return 'Notifications are on';
  return `Paused until ${formatTime(until, now)}`;
}

/** Only what the app may open (web pages and mail) is ever made clickable. */
export { isOpenableUrl, isWebUrl } from '../../protocol/web-url.ts';
