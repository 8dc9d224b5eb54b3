// Launching the built desktop app under Playwright's _electron, and the TOCSIN_E2E=1 test hook the
// main process installs (main/test-hook.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import type { UiState } from '../../client/desktop/api.ts';
import type { TrayAction, TrayItem } from '../../client/desktop/tray-menu.ts';
import type { PowerEvent } from '../../client/power.ts';
import { buildDesktop } from '../../scripts/build-desktop.ts';
import { findElectron, INSTALL_HINT } from '../../scripts/electron-binary.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `globalThis.__tocsinTest` in the main process, when launched with TOCSIN_E2E=1. */
export interface TocsinTestHook {
  /** Every notification request that reached the Notifier, in order. */
  notifications: { title: string; body: string; urgency: string }[];
  trayMenu(): TrayItem[];
  clickTrayItem(id: TrayAction): void;
  emitPower(event: PowerEvent): void;
  state(): UiState;
}

export const WINDOW_TITLES = {
  signin: 'Tocsin — Sign in',
  history: 'Tocsin — Alarm history',
  settings: 'Tocsin — Settings',
} as const;

/**
 * What the e2e suites launch. In CI: the app electron-builder packaged (`--dir`), named by
 * TOCSIN_E2E_EXECUTABLE, exactly what ships (ESM main from asar, keytar unpacked, the fuses);
 * elsewhere: Electron from node_modules with a fresh build of this checkout; or why neither exists.
 */
export type E2eTarget =
  | { readonly kind: 'packaged'; readonly executablePath: string }
  | { readonly kind: 'checkout'; readonly executablePath: string }
  | { readonly kind: 'none'; readonly reason: string };

export function e2eTarget(env: NodeJS.ProcessEnv = process.env): E2eTarget {
  const packaged = env.TOCSIN_E2E_EXECUTABLE;
  if (packaged !== undefined && packaged !== '') return { kind: 'packaged', executablePath: packaged };
  const electron = findElectron(env);
  if (electron.available) return { kind: 'checkout', executablePath: electron.path };
  return { kind: 'none', reason: `${electron.reason} ${INSTALL_HINT}` };
}

/** Prepares what `target` needs: a built checkout copy, or nothing for a packaged app. */
export async function prepareTarget(
  target: Exclude<E2eTarget, { kind: 'none' }>,
): Promise<{ appDir: string | null; dispose(): Promise<void> }> {
  if (target.kind === 'packaged') return { appDir: null, dispose: async () => {} };
  const prepared = await prepareApp();
  return { appDir: prepared.dir, dispose: prepared.dispose };
}

/**
 * A self-contained copy of the app to launch: package.json, a fresh build, the icons, and the
 * project's node_modules linked in for keytar. Built in a temp dir, so it never races the renderer
 * tests that rebuild dist/renderer.
 */
export async function prepareApp(): Promise<{ dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-e2e-app-'));
  await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
  await cp(join(ROOT, 'assets'), join(dir, 'assets'), { recursive: true });
  await symlink(
    join(ROOT, 'node_modules'),
    join(dir, 'node_modules'),
    process.platform === 'win32' ? 'junction' : 'dir',
  );
  await buildDesktop({ outDir: join(dir, 'dist') });
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A display for Electron on Linux: the one in $DISPLAY (xvfb-run, a desktop), else an Xvfb started
 * here on a free display number. Elsewhere, the desktop session.
 */
export async function ensureDisplay(): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  if (process.platform !== 'linux' || (process.env.DISPLAY ?? '') !== '') {
    return { env: {}, stop: async () => {} };
  }
  const xvfb: ChildProcess = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  xvfb.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const display = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display:\n${stderr}`)), 10_000);
    xvfb.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `DISPLAY is unset and Xvfb could not start (${error.message}); install xvfb or use xvfb-run`,
        ),
      );
    });
    const fd = xvfb.stdio[3] as NodeJS.ReadableStream | null;
    fd?.setEncoding('utf8');
    fd?.on('data', (chunk: string) => {
      clearTimeout(timer);
      resolve(`:${chunk.trim()}`);
    });
  });
  return {
    env: { DISPLAY: display },
    stop: async () => {
      if (xvfb.exitCode !== null || xvfb.signalCode !== null) return;
      const exited = new Promise((resolve) => xvfb.once('exit', resolve));
      xvfb.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchApp(options: {
  executablePath: string;
  /** null: a packaged app, which loads its own resources/app.asar. */
  appDir: string | null;
  userData: string;
  env: Record<string, string>;
}): Promise<ElectronApplication> {
  await mkdir(options.userData, { recursive: true });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  delete env.ELECTRON_RUN_AS_NODE;
  Object.assign(env, options.env, { TOCSIN_E2E: '1', TOCSIN_USER_DATA: options.userData });
  return _electron.launch({
    executablePath: options.executablePath,
    args: options.appDir === null ? [] : [options.appDir],
    cwd: options.appDir ?? options.userData,
    env,
    timeout: 60_000,
  });
}

/** Reads the test hook from the main process (the function runs there, serialised). */
export function hookState(app: ElectronApplication): Promise<UiState> {
  return app.evaluate(() => (globalThis as unknown as { __tocsinTest: TocsinTestHook }).__tocsinTest.state());
}

export function hookNotifications(app: ElectronApplication): Promise<TocsinTestHook['notifications']> {
  return app.evaluate(() => [
    ...(globalThis as unknown as { __tocsinTest: TocsinTestHook }).__tocsinTest.notifications,
  ]);
}

export function hookTrayMenu(app: ElectronApplication): Promise<TrayItem[]> {
  return app.evaluate(() =>
    (globalThis as unknown as { __tocsinTest: TocsinTestHook }).__tocsinTest.trayMenu(),
  );
}

export function hookClickTray(app: ElectronApplication, id: TrayAction): Promise<void> {
  return app.evaluate((_electron, item) => {
    (globalThis as unknown as { __tocsinTest: TocsinTestHook }).__tocsinTest.clickTrayItem(item);
  }, id);
}

export function hookPower(app: ElectronApplication, event: PowerEvent): Promise<void> {
  return app.evaluate((_electron, power) => {
    (globalThis as unknown as { __tocsinTest: TocsinTestHook }).__tocsinTest.emitPower(power);
  }, event);
}

/** Polls `probe` until it returns something other than undefined/false. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`,
  );
}

/** The app window with this title (windows are told apart by their page titles). */
export function windowTitled(app: ElectronApplication, title: string, timeoutMs = 20_000): Promise<Page> {
  return until(
    `a window titled "${title}"`,
    async () => {
      for (const page of app.windows()) {
        if (!page.isClosed() && (await page.title()) === title) return page;
      }
      return undefined;
    },
    timeoutMs,
  );
}
