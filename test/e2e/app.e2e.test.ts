// End to end: the built Electron app, driven by Playwright's _electron, against a real Tocsin server on
// 127.0.0.1:0. Sign in through the sign-in window, get a notification for a published alarm, pause
// from the tray, sleep and wake, and receive what was published during the sleep by replay.
//
// Runs wherever an Electron binary is installed (see .github/workflows/desktop.yml). Where none is —
// these machines: electron 45 fetches its binary lazily and cannot here — the suite is reported as
// SKIPPED with the reason, never as passed. Detection never calls require('electron'), which would
// start that download.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DESKTOP_SETTINGS } from '../../client/desktop/api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  e2eTarget,
  ensureDisplay,
  hookClickTray,
  hookNotifications,
  hookPower,
  hookState,
  hookTrayMenu,
  launchApp,
  prepareTarget,
  until,
  WINDOW_TITLES,
  windowTitled,
} from './electron-app.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/screenshots');
const USER = 'e2e';
const target = e2eTarget();
if (target.kind === 'none')
  console.warn(`e2e: SKIPPED — the Electron app cannot be launched here. ${target.reason}`);

describe.skipIf(target.kind === 'none')('desktop app end to end (Playwright _electron, real server)', () => {
  let server: TestServer;
  let publishToken: string;
  let app: ElectronApplication;
  let userData: string;
  let prepared: { appDir: string | null; dispose(): Promise<void> } | undefined;
  let display: { env: Record<string, string>; stop(): Promise<void> } | undefined;
  const output: string[] = [];

  const publish = (title: string, priority: number, body?: string) =>
    server.publish(publishToken, { user: USER, title, priority, ...(body === undefined ? {} : { body }) });
  const notified = async (title: string) => (await hookNotifications(app)).filter((n) => n.title === title);

  beforeAll(async () => {
    if (target.kind === 'none') return;
    server = await startTestServer();
    // Only an admin token may address another user's alarms (a publish token sends to its own user).
    publishToken = server.adminToken;
    prepared = await prepareTarget(target);
    display = await ensureDisplay();
    userData = await mkdtemp(join(tmpdir(), 'tocsin-e2e-user-'));
    // Not a first run: self-hosted mode off, so the app asks to sign in to the test server.
    await writeFile(
      join(userData, 'desktop.json'),
      JSON.stringify({
        version: 1,
        serverUrl: null,
        pausedUntil: null,
        settings: { ...DEFAULT_DESKTOP_SETTINGS, selfHosted: { enabled: false, port: 8080, lan: false } },
      }),
    );
    app = await launchApp({
      executablePath: target.executablePath,
      appDir: prepared.appDir,
      userData,
      env: display.env,
    });
    const child = app.process();
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  }, 180_000);

  afterAll(async () => {
    await app?.close().catch(() => app?.process().kill('SIGKILL'));
    await display?.stop();
    await server?.dispose();
    await prepared?.dispose();
    if (userData !== undefined) await rm(userData, { recursive: true, force: true });
  }, 60_000);

  it('signs in through the sign-in window and goes live', async () => {
    const token = await server.token({ user: USER, scope: 'subscribe' });
    // A first launch with no server asks to sign in; if it started something else (self-hosted mode
    // by default), the tray's "Sign in…" opens the same window.
    const signin = await windowTitled(app, WINDOW_TITLES.signin, 15_000).catch(async () => {
      await hookClickTray(app, 'sign-in');
      return windowTitled(app, WINDOW_TITLES.signin);
    });
    await signin.fill('#server-url', server.url);
    await signin.fill('#token', token);
    await signin.click('#sign-in');
    await until(
      'the sign-in result',
      async () => (await signin.getAttribute('#message', 'data-kind')) || undefined,
    );
    expect(await signin.textContent('#message'), output.join('')).toContain(`Signed in as ${USER}`);
    await mkdir(SHOTS, { recursive: true });
    await signin.screenshot({ path: join(SHOTS, 'e2e-signin.png') });

    const state = await until('a live stream', async () => {
      const s = await hookState(app);
      return s.connection.status === 'live' ? s : undefined;
    });
    expect(state.server?.user).toBe(USER);
    expect(new URL(state.server?.url ?? 'about:blank').origin).toBe(new URL(server.url).origin);
  }, 90_000);

  it('raises a notification for a published alarm', async () => {
    await publish('Disk full on db-1', 4, '/var is at 99%');
    const [toast] = await until('the notification', async () => {
      const found = await notified('Disk full on db-1');
      return found.length > 0 ? found : undefined;
    });
    expect(toast).toEqual({ title: 'Disk full on db-1', body: '/var is at 99%', urgency: 'normal' });
  }, 60_000);

  it('pauses from the tray menu: alarms go to history only, priority 5 still pierces, resume clears', async () => {
    const menu = await hookTrayMenu(app);
    const pause = menu.find((item) => item.type === 'action' && item.id === 'pause-1h');
    expect(pause, JSON.stringify(menu)).toMatchObject({ enabled: true });
    const before = Date.now();
    await hookClickTray(app, 'pause-1h');
    const paused = await until('the pause', async () => (await hookState(app)).pausedUntil ?? undefined);
    expect(paused).toBeGreaterThanOrEqual(before + 59 * 60_000);
    expect((await hookTrayMenu(app)).some((item) => item.type === 'action' && item.id === 'resume')).toBe(
      true,
    );

    await publish('Nightly report ready', 3);
    await hookClickTray(app, 'open-history');
    const history = await windowTitled(app, WINDOW_TITLES.history);
    await until('the paused alarm in the history window', async () =>
      ((await history.textContent('body')) ?? '').includes('Nightly report ready'),
    );
    expect(await notified('Nightly report ready')).toEqual([]);

    await publish('Production is down', 5);
    const [urgent] = await until('the urgent notification', async () => {
      const found = await notified('Production is down');
      return found.length > 0 ? found : undefined;
    });
    expect(urgent?.urgency).toBe('critical');

    await hookClickTray(app, 'resume');
    await until('the resume', async () => (await hookState(app)).pausedUntil === null);
  }, 90_000);

  it('drops the stream on suspend and replays what was published meanwhile on resume, once', async () => {
    await hookPower(app, 'suspend');
    await until('the suspended state', async () => (await hookState(app)).connection.status === 'suspended');
    // Stored by the server (201) while the app has no stream: only a replay can deliver it.
    await publish('Backup failed while you slept', 4);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await notified('Backup failed while you slept')).toEqual([]);

    await hookPower(app, 'resume');
    await until(
      'the replayed notification',
      async () => (await notified('Backup failed while you slept')).length > 0,
    );
    await until('a live stream again', async () => (await hookState(app)).connection.status === 'live');
    // De-duplication: a replay never notifies twice.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await notified('Backup failed while you slept')).toHaveLength(1);
    expect(await notified('Disk full on db-1')).toHaveLength(1);
  }, 90_000);
});
