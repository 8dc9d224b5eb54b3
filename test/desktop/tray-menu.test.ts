import { describe, expect, it } from 'vitest';
import { DEFAULT_DESKTOP_SETTINGS, type UiState } from '../../client/desktop/api.ts';
import {
  pauseEnd,
  sameTrayView,
  type TrayItem,
  tomorrowMorning,
  trayIcon,
  trayMenu,
  trayTooltip,
  trayView,
} from '../../client/desktop/tray-menu.ts';
import { placeholderState } from '../../client/desktop/ui-state.ts';

const NOW = new Date(2026, 10, 25, 14, 30).getTime();
const state = (over: Partial<UiState> = {}): UiState => ({
  connection: { status: 'live', text: 'Live' },
  server: { url: 'https://alarms.example.com/', user: 'alice' },
  pausedUntil: null,
  selfHosted: { enabled: false, status: 'off', url: null, detail: null },
  trayAvailable: true,
  notifications: { ok: true, detail: null },
  ...over,
});
const ids = (items: TrayItem[]) =>
  items.map((i) => (i.type === 'separator' ? '---' : 'id' in i ? i.id : `"${i.label}"`));

describe('tray menu', () => {
  it('live and signed in: status, account, pause choices, windows, toggles, quit', () => {
    expect(ids(trayMenu(state(), DEFAULT_DESKTOP_SETTINGS, NOW))).toEqual([
      '"Live"',
      '"alice @ alarms.example.com"',
      '---',
      'pause-1h',
      'pause-tomorrow',
      '---',
      'open-history',
      'sign-in',
      'open-settings',
      '---',
      'toggle-self-hosted',
      'toggle-start-at-login',
      '---',
      'quit',
    ]);
  });

  it('paused: says until when and offers Resume instead of the pause choices', () => {
    const menu = trayMenu(state({ pausedUntil: NOW + 3_600_000 }), DEFAULT_DESKTOP_SETTINGS, NOW);
    expect(ids(menu)).toContain('"Paused until 15:30"');
    expect(ids(menu)).toContain('resume');
    expect(ids(menu)).not.toContain('pause-1h');
    // A pause that already ended is no pause.
    expect(ids(trayMenu(state({ pausedUntil: NOW - 1 }), DEFAULT_DESKTOP_SETTINGS, NOW))).toContain(
      'pause-1h',
    );
  });

  it('asks to sign in when not signed in or when the server rejected the token, else offers another server', () => {
    const label = (st: UiState) =>
      (
        trayMenu(st, DEFAULT_DESKTOP_SETTINGS, NOW).find((i) => 'id' in i && i.id === 'sign-in') as {
          label: string;
        }
      ).label;
    expect(label(state({ server: null }))).toBe('Sign in…');
    const rejected = state({
      connection: { status: 'auth-required', text: 'Sign-in required: token revoked' },
    });
    expect(label(rejected)).toBe('Sign in…');
    expect(label(state())).toBe('Use another server…');
  });

  it('reflects the toggles and a failing local server', () => {
    const settings = {
      ...DEFAULT_DESKTOP_SETTINGS,
      startAtLogin: true,
      selfHosted: { enabled: true, port: 8080, lan: false },
    };
    const failing = state({
      selfHosted: {
        enabled: true,
        status: 'failed',
        url: null,
        detail: 'port 8080 is in use; restarting in 4 s',
      },
    });
    const menu = trayMenu(failing, settings, NOW);
    expect(menu).toContainEqual({
      type: 'checkbox',
      id: 'toggle-self-hosted',
      label: 'Run server on this computer',
      checked: true,
    });
    expect(menu).toContainEqual({
      type: 'checkbox',
      id: 'toggle-start-at-login',
      label: 'Start at login',
      checked: true,
    });
    expect(menu).toContainEqual({
      type: 'label',
      label: 'Local server: port 8080 is in use; restarting in 4 s',
    });
  });
});

describe('tray icon and tooltip', () => {
  it.each([
    [state(), 'live'],
    [state({ pausedUntil: NOW + 1 }), 'paused'],
    [state({ connection: { status: 'reconnecting', text: 'x' } }), 'reconnecting'],
    [state({ connection: { status: 'connecting', text: 'x' } }), 'reconnecting'],
    [state({ connection: { status: 'offline', text: 'x' } }), 'offline'],
    [state({ connection: { status: 'suspended', text: 'x' } }), 'offline'],
    [state({ connection: { status: 'auth-required', text: 'x' } }), 'auth-required'],
    [state({ server: null, connection: { status: 'stopped', text: 'x' } }), 'auth-required'],
    // Sign-in trouble outranks a pause: the user must act.
    [state({ pausedUntil: NOW + 1, connection: { status: 'auth-required', text: 'x' } }), 'auth-required'],
  ] as const)('%# → %s', (s, icon) => {
    expect(trayIcon(s, NOW)).toBe(icon);
  });

  it('tooltip carries the state and the pause', () => {
    expect(trayTooltip(state({ pausedUntil: NOW + 30 * 60_000 }), NOW)).toBe(
      'Tocsin: Live — paused until 15:00',
    );
  });

  it('pause ends: one hour from now, or 08:00 tomorrow', () => {
    expect(pauseEnd('pause-1h', NOW)).toBe(NOW + 3_600_000);
    expect(new Date(tomorrowMorning(NOW)).toString()).toBe(new Date(2026, 10, 26, 8, 0).toString());
    expect(pauseEnd('pause-tomorrow', NOW)).toBe(tomorrowMorning(NOW));
  });

  it('says so when notifications cannot be shown', () => {
    const items = trayMenu(
      state({ notifications: { ok: false, detail: 'The app is not signed' } }),
      DEFAULT_DESKTOP_SETTINGS,
      NOW,
    );
    expect(ids(items).slice(0, 2)).toEqual([
      '"Live"',
      '"Notifications are not shown (see the history window)"',
    ]);
  });

  it('is rebuilt only when something shown changes', () => {
    const shown = trayView(state(), DEFAULT_DESKTOP_SETTINGS, NOW);
    expect(sameTrayView(null, shown)).toBe(false);
    // Another state event with the same content (the agent re-emits on every heartbeat, say).
    expect(sameTrayView(shown, trayView(state(), DEFAULT_DESKTOP_SETTINGS, NOW + 1_000))).toBe(true);
    const reconnecting = state({ connection: { status: 'reconnecting', text: 'Reconnecting in 4 s' } });
    expect(sameTrayView(shown, trayView(reconnecting, DEFAULT_DESKTOP_SETTINGS, NOW))).toBe(false);
    const toggled = { ...DEFAULT_DESKTOP_SETTINGS, startAtLogin: true };
    expect(sameTrayView(shown, trayView(state(), toggled, NOW))).toBe(false);
  });

  it('shows server-provided text on one line without control characters', () => {
    const items = trayMenu(
      state({
        connection: { status: 'live', text: 'Live\u001b]0;x\u0007\nnow' },
        server: { url: 'https://alarms.example.com/', user: 'eve\u009b31m' },
      }),
      DEFAULT_DESKTOP_SETTINGS,
      NOW,
    );
    expect(ids(items).slice(0, 2)).toEqual(['"Live]0;x now"', '"eve31m @ alarms.example.com"']);
    expect(trayTooltip(state({ connection: { status: 'live', text: 'a\nb\u0007' } }), NOW)).toBe(
      'Tocsin: a b',
    );
  });

  it('offers Quit while starting and after a failed start', () => {
    for (const text of ['Starting…', 'Tocsin could not start: keychain locked']) {
      const items = trayMenu(placeholderState(text), DEFAULT_DESKTOP_SETTINGS, NOW);
      expect(ids(items)[0]).toBe(`"${text}"`);
      expect(ids(items)).toContain('quit');
    }
  });
});
