import { stripControlChars } from '../../protocol/control-chars.ts';
import type { DesktopSettings, UiState } from './api.ts';

/** What a tray menu item does; main/ maps each to an action, nothing else decides behaviour there. */
export type TrayAction =
  | 'pause-1h'
  | 'pause-tomorrow'
  | 'resume'
  | 'open-history'
  | 'open-settings'
  | 'sign-in'
  | 'toggle-self-hosted'
  | 'toggle-start-at-login'
  | 'quit';

export type TrayItem =
  | { readonly type: 'separator' }
  | { readonly type: 'label'; readonly label: string }
  | { readonly type: 'action'; readonly id: TrayAction; readonly label: string; readonly enabled: boolean }
  | { readonly type: 'checkbox'; readonly id: TrayAction; readonly label: string; readonly checked: boolean };

/** The icon for a state: one glance tells whether alarms are getting through. */
export type TrayIcon = 'live' | 'reconnecting' | 'offline' | 'auth-required' | 'paused';

const HOUR = 60 * 60 * 1000;

/** The pause end for "until tomorrow": 08:00 local time the next day. */
export function tomorrowMorning(now: number): number {
  const date = new Date(now);
  date.setDate(date.getDate() + 1);
  date.setHours(8, 0, 0, 0);
  return date.getTime();
}

export function pauseEnd(action: 'pause-1h' | 'pause-tomorrow', now: number): number {
  return action === 'pause-1h' ? now + HOUR : tomorrowMorning(now);
}

function hhmm(epochMs: number): string {
  const d = new Date(epochMs);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function trayIcon(state: UiState, now: number): TrayIcon {
  const status = state.connection.status;
  if (status === 'auth-required' || (state.server === null && !state.selfHosted.enabled))
    return 'auth-required';
  if (state.pausedUntil !== null && state.pausedUntil > now) return 'paused';
  if (status === 'live') return 'live';
  if (status === 'offline' || status === 'suspended' || status === 'stopped') return 'offline';
  return 'reconnecting';
}

export function trayTooltip(state: UiState, now: number): string {
  const paused =
    state.pausedUntil !== null && state.pausedUntil > now ? ` — paused until ${hhmm(state.pausedUntil)}` : '';
  return oneLine(`Tocsin: ${state.connection.text}${paused}`);
}

/** Menu labels and tooltips are single lines without control characters (text from servers). */
function oneLine(text: string): string {
  return stripControlChars(text).replace(/[\r\n\t]+/g, ' ');
}

/** The tray menu as a pure function of the app's state and settings. */
export function trayMenu(state: UiState, settings: DesktopSettings, now: number): TrayItem[] {
  return buildMenu(state, settings, now).map((item) =>
    item.type === 'label' ? { ...item, label: oneLine(item.label) } : item,
  );
}

function buildMenu(state: UiState, settings: DesktopSettings, now: number): TrayItem[] {
  const paused = state.pausedUntil !== null && state.pausedUntil > now;
  const items: TrayItem[] = [{ type: 'label', label: state.connection.text }];
  if (!state.notifications.ok)
    items.push({ type: 'label', label: 'Notifications are not shown (see the history window)' });
  if (state.server !== null) {
    const who = state.server.user === null ? '' : `${state.server.user} @ `;
    items.push({ type: 'label', label: `${who}${new URL(state.server.url).host}` });
  }
  if (state.selfHosted.enabled && state.selfHosted.status !== 'running') {
    items.push({
      type: 'label',
      label: `Local server: ${state.selfHosted.detail ?? state.selfHosted.status}`,
    });
  }
  items.push({ type: 'separator' });
  if (paused) {
    items.push({ type: 'label', label: `Paused until ${hhmm(state.pausedUntil as number)}` });
    items.push({ type: 'action', id: 'resume', label: 'Resume notifications', enabled: true });
  } else {
    items.push({ type: 'action', id: 'pause-1h', label: 'Pause for 1 hour', enabled: true });
    items.push({ type: 'action', id: 'pause-tomorrow', label: 'Pause until tomorrow', enabled: true });
  }
  items.push({ type: 'separator' });
  items.push({ type: 'action', id: 'open-history', label: 'Open history', enabled: true });
  const needsSignIn = state.server === null || state.connection.status === 'auth-required';
  items.push({
    type: 'action',
    id: 'sign-in',
    label: needsSignIn ? 'Sign in…' : 'Use another server…',
    enabled: true,
  });
  items.push({ type: 'action', id: 'open-settings', label: 'Settings…', enabled: true });
  items.push({ type: 'separator' });
  items.push({
    type: 'checkbox',
    id: 'toggle-self-hosted',
    label: 'Run server on this computer',
    checked: settings.selfHosted.enabled,
  });
  items.push({
    type: 'checkbox',
    id: 'toggle-start-at-login',
    label: 'Start at login',
    checked: settings.startAtLogin,
  });
  items.push({ type: 'separator' });
  items.push({ type: 'action', id: 'quit', label: 'Quit Tocsin', enabled: true });
  return items;
}

/** Everything the tray shows; main/ applies it only when it differs from what is shown. */
export interface TrayView {
  readonly icon: TrayIcon;
  readonly tooltip: string;
  readonly items: readonly TrayItem[];
}

export function trayView(state: UiState, settings: DesktopSettings, now: number): TrayView {
  return {
    icon: trayIcon(state, now),
    tooltip: trayTooltip(state, now),
    items: trayMenu(state, settings, now),
  };
}

/**
 * Whether two views look the same. Rebuilding the menu on every state event makes an open menu
 * flicker or close on Linux; it is rebuilt only when something in it changed.
 */
export function sameTrayView(a: TrayView | null, b: TrayView): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}
