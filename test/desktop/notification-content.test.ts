// What a native notification shows, from real alarm text: libnotify markup escaped on Linux, control
// characters stripped everywhere, view/http actions as buttons where the OS has them, and the
// controller telling the user when notifications cannot be shown.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCredentialStore } from '../../client/credentials.ts';
import { DesktopController } from '../../client/desktop/controller.ts';
import {
  escapeNotificationMarkup,
  MAC_ALARM_SOUND,
  notificationButtons,
  notificationContent,
} from '../../client/desktop/notification-content.ts';
import { MemoryNotifier, NotifierError } from '../../client/notifier.ts';
import type { Toast } from '../../client/policy.ts';
import type { Alarm } from '../../protocol/index.ts';

const toast = (over: Partial<Toast> = {}): Toast => ({
  kind: 'alarm',
  title: 'Disk full',
  body: 'a < b && c > d',
  urgency: 'normal',
  sound: 'default',
  alarmIds: ['7'],
  ...over,
});

const alarm: Alarm = {
  id: '7',
  time: 1_700_000_000_000,
  topic: 'ops',
  title: 'Disk full',
  priority: 5,
  tags: [],
  actions: [
    { action: 'view', label: 'Open run', url: 'https://ci.example.com/runs/7?a=1&b=2' },
    { action: 'http', label: 'Silence', url: 'https://ops.example.com/silence', method: 'PUT' },
    { action: 'view', label: 'Mail', url: 'mailto:ops@example.com' },
  ],
};
/** Not storable (more than three actions), but it shows what the filter drops. */
const mixed = {
  ...alarm,
  actions: [
    { action: 'broadcast', label: 'Android only' },
    { action: 'view', label: 'Shell', url: 'ssh://db-1.example.com' },
    ...(alarm.actions ?? []),
  ],
} as Alarm;

describe('notification content', () => {
  it('escapes libnotify body markup on Linux only', () => {
    const inputs: [string, string][] = [
      ['a < b && c > d', 'a &lt; b &amp;&amp; c &gt; d'],
      ['<b>bold</b> <a href="x">link</a>', '&lt;b&gt;bold&lt;/b&gt; &lt;a href="x"&gt;link&lt;/a&gt;'],
      ['&amp; stays literal', '&amp;amp; stays literal'],
      ['Zoë: 100% [ok] ✓ 日本語', 'Zoë: 100% [ok] ✓ 日本語'],
    ];
    for (const [raw, escaped] of inputs) {
      expect(escapeNotificationMarkup(raw)).toBe(escaped);
      expect(notificationContent(toast({ body: raw }), undefined, 'linux').body).toBe(escaped);
      expect(notificationContent(toast({ body: raw }), undefined, 'darwin').body).toBe(raw);
      expect(notificationContent(toast({ body: raw }), undefined, 'win32').body).toBe(raw);
    }
  });

  it('strips control characters; titles stay on one line, bodies keep theirs', () => {
    const content = notificationContent(
      toast({ title: 'db-1\u001b]0;pwned\u0007\ndown\u009b', body: 'line 1\nline\u0000 2\u001b[31m red' }),
      undefined,
      'win32',
    );
    expect(content.title).toBe('db-1]0;pwned down');
    expect(content.body).toBe('line 1\nline 2[31m red');
  });

  it('shows view (openable) and http actions as buttons on macOS and Windows, none on Linux', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      expect(notificationButtons(mixed, platform).map((b) => b.label)).toEqual([
        'Open run',
        'Silence',
        'Mail',
      ]);
    }
    expect(notificationButtons(alarm, 'linux')).toEqual([]);
    expect(notificationButtons(undefined, 'darwin')).toEqual([]);
  });

  it('maps urgency, silence and the priority-5 sound', () => {
    const urgent = notificationContent(toast({ urgency: 'critical', sound: 'alarm' }), alarm, 'darwin');
    // Urgent popups expire too, unless the user made them sticky: a storm must not pile up forever.
    expect(urgent).toMatchObject({ urgency: 'critical', timeoutType: 'default', silent: false });
    const sticky = notificationContent(toast({ urgency: 'critical', sticky: true }), alarm, 'linux');
    expect(sticky.timeoutType).toBe('never');
    expect(urgent.sound).toBe(MAC_ALARM_SOUND);
    expect(notificationContent(toast({ sound: 'alarm' }), alarm, 'linux').sound).toBeUndefined();
    expect(notificationContent(toast({ urgency: 'low', sound: 'none' }), undefined, 'linux')).toMatchObject({
      silent: true,
      timeoutType: 'default',
    });
  });
});

describe('the controller and notifications', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function controllerWithHistory(over: { fetch?: typeof fetch } = {}) {
    const dataDir = await mkdtemp(join(tmpdir(), 'tocsin-notify-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await writeFile(
      join(dataDir, 'history.json'),
      JSON.stringify({ version: 1, entries: [{ alarm, receivedAt: alarm.time }] }),
    );
    const opened: string[] = [];
    const logs: string[] = [];
    const controller = new DesktopController({
      dataDir,
      credentials: new MemoryCredentialStore(),
      notifier: new MemoryNotifier(),
      openExternal: async (url) => {
        opened.push(url);
      },
      showHistory: () => {},
      log: (m) => logs.push(m),
      ...(over.fetch !== undefined && { fetch: over.fetch }),
    });
    await controller.start();
    cleanups.push(() => controller.stop());
    return { controller, opened, logs };
  }

  it('tells the windows when the tray host comes and goes', async () => {
    const { controller } = await controllerWithHistory();
    const seen: boolean[] = [];
    controller.on('state', (s) => seen.push(s.trayAvailable));
    controller.setTrayAvailable(false);
    controller.setTrayAvailable(false);
    controller.setTrayAvailable(true);
    expect(seen).toEqual([false, true]);
  });

  it('tells the windows when a notification fails, and clears it when one is shown', async () => {
    const { controller } = await controllerWithHistory();
    const states: boolean[] = [];
    controller.on('state', (s) => states.push(s.notifications.ok));
    expect(controller.getState().notifications).toEqual({ ok: true, detail: null });
    controller.notificationFailed(new NotifierError('notify-failed', 'The app is not signed'));
    expect(controller.getState().notifications.ok).toBe(false);
    expect(controller.getState().notifications.detail).toContain('The app is not signed');
    controller.notificationFailed(new NotifierError('notify-failed', 'The app is not signed'));
    controller.notificationShown();
    expect(controller.getState().notifications).toEqual({ ok: true, detail: null });
    expect(states).toEqual([false, true]);
    controller.notificationFailed(new NotifierError('notifications-unavailable', 'no server'));
    expect(controller.getState().notifications.detail).toMatch(/cannot be shown on this desktop/);
  });

  it('runs a pressed button: view opens its link, http sends the request through the injected fetch', async () => {
    const received: { method?: string; url?: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, body });
        res.end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const fetched: string[] = [];
    // The app injects Electron's net.fetch; here a fetch that records and reroutes to the loopback server.
    const injected: typeof fetch = async (input, init) => {
      fetched.push(String(input));
      const url = new URL(String(input));
      return fetch(`http://127.0.0.1:${port}${url.pathname}`, init);
    };
    const { controller, opened } = await controllerWithHistory({ fetch: injected });
    await controller.pressNotificationButton(toast(), 0, 'darwin');
    expect(opened).toEqual(['https://ci.example.com/runs/7?a=1&b=2']);
    await controller.pressNotificationButton(toast(), 1, 'win32');
    expect(fetched).toEqual(['https://ops.example.com/silence']);
    expect(received).toEqual([{ method: 'PUT', url: '/silence', body: '' }]);
    await controller.pressNotificationButton(toast(), 2, 'darwin');
    expect(opened).toEqual(['https://ci.example.com/runs/7?a=1&b=2', 'mailto:ops@example.com']);
    // Out of range, or on Linux (no buttons there): nothing happens.
    await controller.pressNotificationButton(toast(), 3, 'darwin');
    await controller.pressNotificationButton(toast(), 0, 'linux');
    expect(opened).toHaveLength(2);
    expect(received).toHaveLength(1);
  });
});
