import type { NewAlarm } from './store.ts';

/** The optional ntfy-era fields, copied only when present (absent, not undefined). */
export function copyExtras(from: Partial<NewAlarm>, to: NewAlarm): void {
  if (from.icon !== undefined) to.icon = from.icon;
  if (from.markdown !== undefined) to.markdown = from.markdown;
  if (from.actions !== undefined) to.actions = from.actions;
  if (from.attachment !== undefined) to.attachment = from.attachment;
}
