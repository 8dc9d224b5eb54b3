import { createReadStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesktopSettings, UiHistoryEntry, UiState } from '../../client/desktop/api.ts';
import {
  formatPause,
  formatTime,
  isOpenableUrl,
  isWebUrl,
  priorityLabel,
} from '../../renderer/src/format.ts';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import { installFakeApi } from './fake-api.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(ROOT, 'dist/renderer');
/** Screenshots are kept as test artifacts for a person to look at. */
const SHOTS = join(ROOT, 'test-results/screenshots');
const skip = chromiumUnavailable();

const NOW = Date.now();
const state = (over: Partial<UiState> = {}): UiState => ({
  connection: { status: 'live', text: 'Live' },
  server: { url: 'https://alarms.example.com', user: 'alice' },
  pausedUntil: null,
  selfHosted: { enabled: false, status: 'off', url: null, detail: null },
  trayAvailable: true,
  notifications: { ok: true, detail: null },
  ...over,
});
const history: UiHistoryEntry[] = [
  {
    kind: 'alarm',
    receivedAt: NOW,
    alarm: {
      id: '42',
      time: NOW - 60_000,
      topic: 'backups',
      title: 'Backup failed on db-1',
      body: 'pg_dump exited with 1\ndisk full',
      priority: 5,
      url: 'https://ci.example.com/runs/42',
      tags: ['nightly', 'db'],
    },
  },
  {
    kind: 'gap',
    message: 'Some alarms may be missing: the server no longer holds alarms 12-30.',
    at: NOW - 120_000,
  },
  {
    kind: 'alarm',
    receivedAt: NOW,
    alarm: {
      id: '11',
      time: NOW - 3_600_000,
      topic: 'ops',
      title: '<img src=x onerror=alert(1)>',
      priority: 3,
      tags: [],
    },
  },
  {
    kind: 'alarm',
    receivedAt: NOW,
    alarm: {
      id: '10',
      time: NOW - 7_200_000,
      user: 'alice',
      title: 'Deploy finished',
      priority: 2,
      url: 'file:///etc/passwd',
      tags: [],
    },
  },
];
const settings: DesktopSettings = {
  urgentPiercesPause: true,
  maxToasts: 4,
  minPriority: 1,
  startAtLogin: false,
  selfHosted: { enabled: true, port: 8080, lan: false },
};
const publishExample = {
  url: 'http://127.0.0.1:8080',
  token: 'tcs_0123456789ab_PUBLISH',
  curl: 'curl -u :tcs_0123456789ab_PUBLISH -d "Backup failed" http://127.0.0.1:8080/backups',
};

describe('presentation rules', () => {
  it('labels priorities and formats times', () => {
    expect([1, 2, 3, 4, 5].map(priorityLabel)).toEqual(['min', 'low', 'default', 'high', 'urgent']);
    const noon = new Date(2026, 10, 25, 12, 5).getTime();
    expect(formatTime(noon, noon + 60_000)).toBe('12:05');
    expect(formatTime(new Date(2026, 0, 2, 9, 0).getTime(), noon)).toBe('2026-01-02 09:00');
    expect(formatPause(null, noon)).toBe('Notifications are on');
    expect(formatPause(noon + 3_600_000, noon)).toBe('Paused until 13:05');
  });

  it('only makes web and mail links clickable', () => {
    expect(isOpenableUrl('mailto:ops@example.com')).toBe(true);
    expect(isOpenableUrl('tocsin://x')).toBe(false);
    expect(isWebUrl('https://x.test/a')).toBe(true);
    expect(isWebUrl('http://x.test')).toBe(true);
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'tocsin://x', 'not a url', undefined]) {
      expect(isWebUrl(bad)).toBe(false);
    }
  });
});

describe.skipIf(skip !== null)('the windows in Chromium (preload API provided by the test)', () => {
  let browser: Browser;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    await build({ configFile: join(ROOT, 'renderer/vite.config.ts'), logLevel: 'warn' });
    await mkdir(SHOTS, { recursive: true });
    const types: Record<string, string> = {
      '.html': 'text/html',
      '.js': 'text/javascript',
      '.css': 'text/css',
    };
    server = createServer((req, res) => {
      const path = normalize(join(DIST, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      if (!path.startsWith(DIST) || !existsSync(path)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      createReadStream(path).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  async function open(
    page: string,
    over: { state?: UiState; history?: UiHistoryEntry[] } = {},
  ): Promise<Page> {
    const tab = await browser.newPage({ viewport: { width: 760, height: 620 } });
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    tab.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await tab.addInitScript(installFakeApi, {
      state: over.state ?? state(),
      history: over.history ?? history,
      settings,
      publishExample,
      signIn: { tcs_good: { ok: true, user: 'alice' } },
    });
    await tab.goto(`${base}/${page}.html`);
    await tab.waitForSelector('#app > *');
    // CSP violations and script errors both surface here.
    expect(errors).toEqual([]);
    return tab;
  }

  const calls = (tab: Page) =>
    tab.evaluate(() => (globalThis as unknown as { __calls: { method: string; args: unknown[] }[] }).__calls);

  it('history: newest first, priority, topic and time; links only for web URLs; text never parsed as HTML', async () => {
    const tab = await open('history');
    const items = tab.locator('#history > li');
    await expect.poll(() => items.count()).toBe(4);
    expect(await items.nth(0).locator('.title').textContent()).toBe('Backup failed on db-1');
    expect(await items.nth(0).locator('.priority').textContent()).toBe('urgent');
    expect(await items.nth(0).locator('.topic').textContent()).toBe('#backups');
    expect(await items.nth(1).getAttribute('data-kind')).toBe('gap');
    expect(await items.nth(1).textContent()).toContain('Some alarms may be missing');
    expect(await items.nth(2).locator('.title').textContent()).toBe('<img src=x onerror=alert(1)>');
    expect(await tab.locator('#history img').count()).toBe(0);
    await tab.screenshot({ path: join(SHOTS, 'history.png') });

    await items.nth(0).click();
    await items.nth(3).click(); // file:// link: not clickable, nothing opened
    expect((await calls(tab)).filter((c) => c.method === 'openAlarm')).toEqual([
      { method: 'openAlarm', args: ['42'] },
    ]);
    await tab.close();
  });

  it('history: shows an empty state and updates live', async () => {
    const tab = await open('history', { history: [] });
    expect(await tab.locator('.empty').textContent()).toContain('No alarms yet');
    await tab.evaluate(
      (entries) => (globalThis as unknown as { __emitHistory: (e: unknown) => void }).__emitHistory(entries),
      history.slice(0, 1),
    );
    await expect.poll(() => tab.locator('#history > li').count()).toBe(1);
    await tab.close();
  });

  it('sign-in: sends URL and token to main, shows the clear error for each failure, clears the token on success', async () => {
    const tab = await open('signin', {
      state: state({ server: null, connection: { status: 'stopped', text: 'Not signed in' } }),
    });
    await tab.fill('#server-url', 'https://alarms.example.com');
    await tab.fill('#token', 'tcs_bad');
    await tab.click('#sign-in');
    await expect.poll(() => tab.locator('#message').getAttribute('data-code')).toBe('bad-token');
    expect(await tab.locator('#message').textContent()).toContain('Ask its admin for a subscribe token');
    await tab.screenshot({ path: join(SHOTS, 'signin-error.png') });

    await tab.fill('#token', 'tcs_good');
    await tab.click('#sign-in');
    await expect.poll(() => tab.locator('#message').getAttribute('data-kind')).toBe('ok');
    expect(await tab.inputValue('#token')).toBe('');
    expect((await calls(tab)).filter((c) => c.method === 'signIn').map((c) => c.args[0])).toEqual([
      { serverUrl: 'https://alarms.example.com', token: 'tcs_bad' },
      { serverUrl: 'https://alarms.example.com', token: 'tcs_good' },
    ]);
    await tab.close();
  });

  it('settings: pause, resume, options and the self-hosted publish example', async () => {
    const tab = await open('settings', {
      state: state({
        selfHosted: { enabled: true, status: 'running', url: 'http://127.0.0.1:8080', detail: null },
      }),
    });
    expect(await tab.locator('#publish-example').textContent()).toContain(
      'curl -u :tcs_0123456789ab_PUBLISH',
    );
    await tab.click('#pause-hour');
    await expect.poll(() => tab.locator('#pause-state').textContent()).toMatch(/^Paused until/);
    await tab.screenshot({ path: join(SHOTS, 'settings.png'), fullPage: true });
    await tab.click('#resume');
    await expect.poll(() => tab.locator('#pause-state').textContent()).toBe('Notifications are on');
    const updates = async () =>
      (await calls(tab)).filter((c) => c.method === 'updateSettings').map((c) => c.args[0]);
    await tab.uncheck('#pierce');
    await expect.poll(async () => (await updates()).length).toBe(1);
    await tab.check('#lan');
    await expect.poll(async () => (await updates()).length).toBe(2);
    await tab.fill('#max-toasts', '99'); // out of range: reset, not sent
    await tab.press('#max-toasts', 'Tab');
    await tab.fill('#min-priority', '3');
    await tab.press('#min-priority', 'Tab');
    await expect.poll(async () => (await updates()).length).toBe(3);
    expect(await updates()).toEqual([
      { urgentPiercesPause: false },
      { selfHosted: { lan: true } },
      { minPriority: 3 },
    ]);
    // The tray turns the local server off while the window is open: the window follows, and its
    // next change sends only what the user touched, never the stale `enabled: true`.
    await tab.evaluate(
      (next) => (globalThis as unknown as { __emitSettings: (s: unknown) => void }).__emitSettings(next),
      { ...settings, selfHosted: { ...settings.selfHosted, enabled: false } },
    );
    await expect.poll(() => tab.isChecked('#self-hosted')).toBe(false);
    await tab.fill('#port', '9090');
    await tab.press('#port', 'Tab');
    await expect.poll(async () => (await updates()).length).toBe(4);
    expect((await updates())[3]).toEqual({ selfHosted: { port: 9090 } });
    const pauses = (await calls(tab)).filter((c) => c.method === 'pause').map((c) => c.args[0]);
    expect(pauses).toHaveLength(2);
    expect(pauses[0]).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(pauses[1]).toBeNull();
    await tab.close();
  });

  it('without a tray the windows carry the controls; a notification failure is shown; control characters never reach the page', async () => {
    const tab = await open('history', {
      state: state({
        trayAvailable: false,
        connection: { status: 'live', text: 'Live\u001b]0;owned\u0007 now' },
        notifications: { ok: false, detail: 'Notifications cannot be shown on this desktop (refused).' },
      }),
      history: [
        {
          kind: 'alarm',
          receivedAt: NOW,
          alarm: {
            id: '7',
            time: NOW,
            user: 'alice',
            title: 'Disk\u001b[2J full\u009b',
            priority: 3,
            tags: [],
          },
        },
      ],
    });
    expect(await tab.locator('#status').textContent()).toBe('Live]0;owned now');
    expect(await tab.locator('#history .title').textContent()).toBe('Disk[2J full');
    expect(await tab.locator('#notifications-off').textContent()).toContain('cannot be shown');
    const ids = await tab.locator('#controls button').evaluateAll((buttons) => buttons.map((b) => b.id));
    expect(ids).toEqual(['control-pause', 'control-signin', 'control-settings', 'control-quit']);
    await tab.locator('#control-settings').click();
    await tab.locator('#control-quit').click();
    const made = (await calls(tab)).filter((c) => c.method === 'showWindow' || c.method === 'quit');
    expect(made).toEqual([
      { method: 'showWindow', args: ['settings'] },
      { method: 'quit', args: [] },
    ]);
    await tab.screenshot({ path: join(SHOTS, 'history-no-tray.png') });
    // With a tray, and notifications working again, both go away.
    await tab.evaluate(
      (next) => (globalThis as unknown as { __emitState: (s: unknown) => void }).__emitState(next),
      state(),
    );
    await expect.poll(() => tab.locator('#controls').count()).toBe(0);
    expect(await tab.locator('#notifications-off').count()).toBe(0);
    await tab.close();
  });

  it('status pill follows the agent state', async () => {
    const tab = await open('history');
    expect(await tab.locator('#status').getAttribute('data-status')).toBe('live');
    await tab.evaluate(
      (next) => (globalThis as unknown as { __emitState: (s: unknown) => void }).__emitState(next),
      state({ connection: { status: 'reconnecting', text: 'Reconnecting in 4 s (heartbeat timeout)' } }),
    );
    await expect
      .poll(() => tab.locator('#status').textContent())
      .toBe('Reconnecting in 4 s (heartbeat timeout)');
    expect(await tab.locator('#status').getAttribute('data-status')).toBe('reconnecting');
    await tab.close();
  });
});
