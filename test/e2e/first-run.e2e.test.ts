// First run, as a new user gets it: an empty profile, so self-hosted mode starts the bundled server
// (utility process, node:sqlite, from the asar), the app signs itself in and goes live, and the curl
// example the settings window shows raises a notification when run in a shell.
//
// Skipped with the reason where no Electron binary exists (see app.e2e.test.ts).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  e2eTarget,
  ensureDisplay,
  hookClickTray,
  hookNotifications,
  hookState,
  launchApp,
  prepareTarget,
  until,
  WINDOW_TITLES,
  windowTitled,
} from './electron-app.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/screenshots');
const target = e2eTarget();
if (target.kind === 'none') console.warn(`e2e first run: SKIPPED — ${target.reason}`);

/** Runs a command line in the platform's shell (cmd on Windows, sh elsewhere), as a user would. */
function runInShell(command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe.skipIf(target.kind === 'none')('first run with an empty profile (self-hosted mode)', () => {
  let app: ElectronApplication;
  let userData: string;
  let prepared: { appDir: string | null; dispose(): Promise<void> } | undefined;
  let display: { env: Record<string, string>; stop(): Promise<void> } | undefined;
  const output: string[] = [];

  beforeAll(async () => {
    if (target.kind === 'none') return;
    prepared = await prepareTarget(target);
    display = await ensureDisplay();
    userData = await mkdtemp(join(tmpdir(), 'tocsin-e2e-first-'));
    app = await launchApp({
      executablePath: target.executablePath,
      appDir: prepared.appDir,
      userData,
      env: display.env,
    });
    app.process().stdout?.on('data', (c: Buffer) => output.push(c.toString()));
    app.process().stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  }, 180_000);

  afterAll(async () => {
    await app?.close().catch(() => app?.process().kill('SIGKILL'));
    await display?.stop();
    await prepared?.dispose();
    if (userData !== undefined) await rm(userData, { recursive: true, force: true });
  }, 60_000);

  it('runs its own server, signs itself in and goes live', async () => {
    const state = await until(
      'the local server and a live stream',
      async () => {
        const s = await hookState(app);
        return s.connection.status === 'live' && s.selfHosted.status === 'running' ? s : undefined;
      },
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- app output ---\n${output.join('')}`);
    });
    expect(new URL(state.server?.url ?? 'about:blank').hostname).toBe('127.0.0.1');
    expect(state.server?.user).toBe('me');
  }, 90_000);

  it("the settings window's curl example raises a notification", async () => {
    await hookClickTray(app, 'open-settings');
    const settings = await windowTitled(app, WINDOW_TITLES.settings);
    const example = await until(
      'the publish example',
      async () => (await settings.textContent('#publish-example').catch(() => null)) || undefined,
      30_000,
    );
    expect(example).toMatch(
      /^curl -u :tcs_\S+ -H "Title: nightly" -d "Backup failed" http:\/\/127\.0\.0\.1:\d+\/backups$/,
    );
    await mkdir(SHOTS, { recursive: true });
    await settings.screenshot({ path: join(SHOTS, 'e2e-first-run-settings.png') });
    const ran = await runInShell(example);
    expect(ran.code, ran.output).toBe(0);
    const [toast] = await until('the notification', async () => {
      const found = (await hookNotifications(app)).filter((n) => n.title === 'nightly');
      return found.length > 0 ? found : undefined;
    });
    expect(toast).toMatchObject({ title: 'nightly', body: 'Backup failed' });
  }, 90_000);
});
