import { app, BrowserWindow, type IpcMainInvokeEvent, session, shell } from 'electron';
import { appPageUrl, isAppPageUrl } from '../client/desktop/app-scheme.ts';
import { isOpenableUrl } from '../protocol/web-url.ts';

export type Page = 'signin' | 'history' | 'settings';

const TITLES: Record<Page, string> = {
  signin: 'Tocsin — Sign in',
  history: 'Tocsin — Alarm history',
  settings: 'Tocsin — Settings',
};

/** One window per page, reused; sandboxed, isolated, no Node, no navigation away, no popups. */
export class Windows {
  readonly #preload: string;
  readonly #onSessionEnd: () => void;
  readonly #open = new Map<Page, BrowserWindow>();

  constructor(paths: { preload: string; onSessionEnd: () => void }) {
    this.#preload = paths.preload;
    this.#onSessionEnd = paths.onSessionEnd;
    // The windows need no camera, microphone, geolocation, notifications-from-pages...: deny all.
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
  }

  /**
   * True for a call from one of our windows' main frame showing one of our pages: the sender's
   * webContents must be one we created, and its frame's URL parses to our own scheme and host.
   */
  isTrusted = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    if (frame === null || frame.parent !== null) return false;
    const ours = [...this.#open.values()].some(
      (win) => !win.isDestroyed() && win.webContents.id === event.sender.id,
    );
    return ours && isAppPageUrl(frame.url);
  };

  show(page: Page): BrowserWindow {
    const existing = this.#open.get(page);
    // A tray app is rarely the active one: come to the front instead of opening behind (macOS).
    if (process.platform === 'darwin') app.focus({ steal: true });
    if (existing !== undefined && !existing.isDestroyed()) {
      if (existing.isMinimized()) existing.restore();
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
      if (isOpenableUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    win.once('ready-to-show', () => {
      win.show();
      // Opened from the tray while another app is in front: come forward (macOS, Windows).
      win.focus();
    });
    win.on('session-end', () => this.#onSessionEnd());
    win.on('closed', () => this.#open.delete(page));
    void win.loadURL(appPageUrl(page));
    this.#open.set(page, win);
    return win;
  }

  broadcast(channel: string, value: unknown): void {
    for (const win of this.#open.values()) if (!win.isDestroyed()) win.webContents.send(channel, value);
  }
}
