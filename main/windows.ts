import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, session, shell } from 'electron';

export type Page = 'signin' | 'history' | 'settings';

const TITLES: Record<Page, string> = {
  signin: 'Tocsin — Sign in',
  history: 'Tocsin — Alarm history',
  settings: 'Tocsin — Settings',
};

/** One window per page, reused; sandboxed, isolated, no Node, no navigation away, no popups. */
export class Windows {
  readonly #rendererDir: string;
  readonly #preload: string;
  readonly #open = new Map<Page, BrowserWindow>();

  constructor(paths: { rendererDir: string; preload: string }) {
    this.#rendererDir = paths.rendererDir;
    this.#preload = paths.preload;
    // The windows need no camera, microphone, geolocation, notifications-from-pages...: deny all.
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
  }

  /** True for a frame showing one of our pages. */
  isTrusted = (frameUrl: string): boolean => frameUrl.startsWith(pathToFileURL(this.#rendererDir).href);

  show(page: Page): BrowserWindow {
    const existing = this.#open.get(page);
    if (existing !== undefined && !existing.isDestroyed()) {
      existing.show();
      existing.focus();
      return existing;
    }
    const win = new BrowserWindow({
      title: TITLES[page],
      width: page === 'history' ? 760 : 560,
      height: page === 'signin' ? 520 : 640,
      show: false,
      autoHideMenuBar: true,
      webPreferences: {
        preload: this.#preload,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        spellcheck: false,
      },
    });
    win.webContents.on('will-navigate', (event) => event.preventDefault());
    win.webContents.setWindowOpenHandler(({ url }) => {
      // Links never open inside the app; web links go to the browser.
      if (/^https?:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => this.#open.delete(page));
    void win.loadFile(join(this.#rendererDir, `${page}.html`));
    this.#open.set(page, win);
    return win;
  }

  broadcast(channel: string, value: unknown): void {
    for (const win of this.#open.values()) if (!win.isDestroyed()) win.webContents.send(channel, value);
  }
}
