import type { DesktopApi, UiState } from '../../client/desktop/api.ts';
import { stripControlChars } from '../../protocol/control-chars.ts';

declare global {
  interface Window {
    /** Exposed by main/preload.ts through contextBridge; provided by the test harness in browser tests. */
    tocsin: DesktopApi;
  }
}

export const api: DesktopApi = window.tocsin;

const HOUR = 60 * 60 * 1000;

/**
 * The tray's controls, in the window's header: shown only on desktops without a tray (Linux without
 * a StatusNotifier host), where nothing else could pause, sign in, open settings or quit.
 */
function controls(state: UiState): HTMLElement | null {
  if (state.trayAvailable) return null;
  const paused = state.pausedUntil !== null && state.pausedUntil > Date.now();
  const action = (id: string, text: string, run: () => Promise<unknown>) => {
    const b = el('button', { text, attrs: { id, type: 'button', class: 'control' } });
    b.addEventListener('click', () => void run());
    return b;
  };
  const page = document.body.dataset.page;
  return el('nav', { class: 'controls', attrs: { id: 'controls', 'aria-label': 'Tocsin' } }, [
    paused
      ? action('control-resume', 'Resume', () => api.pause(null))
      : action('control-pause', 'Pause 1 h', () => api.pause(Date.now() + HOUR)),
    page === 'history' ? null : action('control-history', 'History', () => api.showWindow('history')),
    page === 'signin' ? null : action('control-signin', 'Sign in…', () => api.showWindow('signin')),
    page === 'settings' ? null : action('control-settings', 'Settings…', () => api.showWindow('settings')),
    action('control-quit', 'Quit', () => api.quit()),
  ]);
}

/** Keeps the header's status pill, the tray-less controls and the notification warning in step. */
export function bindStatus(): void {
  const pill = document.getElementById('status');
  if (pill === null) return;
  const render = (state: UiState) => {
    pill.dataset.status = state.connection.status;
    pill.textContent = stripControlChars(state.connection.text);
    pill.title = stripControlChars(
      state.server === null ? 'Not signed in' : `${state.server.user ?? ''} @ ${state.server.url}`,
    );
    const bar = pill.parentElement;
    document.getElementById('controls')?.remove();
    const nav = controls(state);
    if (nav !== null) bar?.append(nav);
    document.getElementById('notifications-off')?.remove();
    if (!state.notifications.ok) {
      bar?.after(
        el('p', {
          class: 'banner',
          text: state.notifications.detail ?? 'Notifications cannot be shown.',
          attrs: { id: 'notifications-off', role: 'alert' },
        }),
      );
    }
  };
  void api.getState().then(render);
  api.onState(render);
}

/**
 * Creates an element with text content only: nothing from an alarm is ever parsed as HTML, and
 * control characters (terminal escapes, bidi-free C0/C1 codes) are stripped from text and attributes.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  children: (Node | null)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class !== undefined) node.className = props.class;
  if (props.text !== undefined) node.textContent = stripControlChars(props.text);
  for (const [name, value] of Object.entries(props.attrs ?? {}))
    node.setAttribute(name, stripControlChars(value));
  for (const child of children) if (child !== null) node.append(child);
  return node;
}
