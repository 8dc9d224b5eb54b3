import { type ConnectionState, describeState } from '../state.ts';
import type { ConnectionLabel, UiState } from './api.ts';

/** The connection as the windows and the tray show it: a status and one sentence. Pure. */
export function connectionView(
  state: ConnectionState,
  now: number,
): { status: ConnectionLabel; text: string } {
  const text = describeState(state, now);
  return { status: state.status, text: text.charAt(0).toUpperCase() + text.slice(1) };
}

export type SelfHostedView = UiState['selfHosted'];

export const SELF_HOSTED_OFF: SelfHostedView = { enabled: false, status: 'off', url: null, detail: null };

/**
 * What the tray shows before the controller has started (the keychain may be slow to answer or ask
 * for a password) or when it could not start: a status line, and Quit always works.
 */
export function placeholderState(text: string): UiState {
  return {
    connection: { status: 'stopped', text },
    server: null,
    pausedUntil: null,
    selfHosted: SELF_HOSTED_OFF,
    trayAvailable: true,
    notifications: { ok: true, detail: null },
  };
}
