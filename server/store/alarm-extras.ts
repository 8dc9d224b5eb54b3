import type { NewAlarm } from './store.ts';

/** The optional ntfy-era fields, copied only when present (absent, not undefined). */
export function copyExtras(from: Partial<NewAlarm>, to: NewAlarm): void {
  if (from.icon !== undefined) to.icon = from.icon;
  if (from.markdown !== undefined) to.markdown = from.markdown;
  if (from.actions !== undefined) to.actions = from.actions;
  if (from.attachment !== undefined) to.attachment = from.attachment;
}

/** Those fields as one JSON column (SQLite) or null when there are none. */
export function encodeExtras(alarm: NewAlarm): string | null {
  const extras: Partial<NewAlarm> = {};
  copyExtras(alarm, extras as NewAlarm);
  return Object.keys(extras).length === 0 ? null : JSON.stringify(extras);
}
