import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Alarm } from '../../protocol/index.ts';
import { isOpenableUrl } from '../../protocol/web-url.ts';
import { Agent, type GapNotice } from '../agent.ts';
import { importLegacyCursor, SqliteAgentStore } from '../agent-store.ts';
import { ApiError, TocsinApi } from '../api.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { parseAgentConfig, serverOrigin } from '../config.ts';
import { CredentialError, type CredentialStore } from '../credentials.ts';
import { NotificationDispatcher } from '../dispatcher.ts';
import { AlarmHistory } from '../history.ts';
import type { Notifier } from '../notifier.ts';
import type { NotificationSettings, Toast } from '../policy.ts';
import type { PowerEvents } from '../power.ts';
import type { FetchFunction } from '../stream.ts';
import {
  type DesktopSettings,
  DesktopSettings as DesktopSettingsSchema,
  type PublishExample,
  type SettingsPatch,
  type SignInRequest,
  type SignInResult,
  type UiHistoryEntry,
  type UiState,
} from './api.ts';
import { choosePort } from './free-port.ts';
import {
  type NotificationContent,
  notificationButtons,
  notificationContent,
} from './notification-content.ts';
import { type LaunchServer, SelfHostedServer } from './self-hosted.ts';
import { type DesktopFile, readDesktopFile, writeDesktopFile } from './settings-file.ts';
import { connectionView, SELF_HOSTED_OFF, type SelfHostedView } from './ui-state.ts';

export interface DesktopDeps {
  /** The app's own data folder (Electron: userData). Holds settings, history and the cursor. */
  readonly dataDir: string;
  readonly credentials: CredentialStore;
  readonly notifier: Notifier;
  readonly power?: PowerEvents;
  /** Opens a link in the user's browser or mail client (http, https, mailto only: checked before). */
  readonly openExternal: (url: string) => Promise<void>;
  /** Brings up the history window (a click on an alarm without a link). */
  readonly showHistory: () => void;
  readonly clock?: Clock;
  readonly fetch?: FetchFunction;
  /** Whether the OS shows a tray; without one the windows are the app's home. */
  readonly trayAvailable?: boolean;
  readonly log?: (message: string) => void;
  /** Runs the bundled server (Electron: utilityProcess); absent, self-hosted mode is unavailable. */
  readonly launchServer?: LaunchServer;
}

export interface DesktopEvents {
  state: [state: UiState];
  history: [entries: UiHistoryEntry[]];
  settings: [settings: DesktopSettings];
}

/** One sentence for the user about why notifications are not shown. */
export function notificationFailureText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'notifications-unavailable')
    return `Notifications cannot be shown on this desktop (${message}). Alarms still arrive in the history.`;
  return `The last notification could not be shown (${message}). Alarms still arrive in the history.`;
}

/** The desktop user's name on its own bundled server. */
const LOCAL_USER = 'me';

/**
 * Everything the desktop app does that is not Electron: sign-in, the agent, notifications through the
 * policy, history, pause, settings and their persistence. The Electron main process only adapts its
 * APIs to these deps and forwards IPC here, so this whole behaviour is tested without Electron.
 */
export class DesktopController extends EventEmitter<DesktopEvents> {
  readonly #deps: DesktopDeps;
  readonly #clock: Clock;
  readonly #history: AlarmHistory;
  readonly #gaps: { message: string; at: number }[] = [];
  readonly #filePath: string;
  #file!: DesktopFile;
  #agent: Agent | null = null;
  #detachDispatcher: (() => void) | null = null;
  #dispatcher: NotificationDispatcher;
  #user: string | null = null;
  #selfHosted: SelfHostedView = SELF_HOSTED_OFF;
  readonly #server: SelfHostedServer | null;
  /** The local server's publish token: kept in memory only, shown in the settings window. */
  #publishToken: string | null = null;
  #localUrl: string | null = null;
  #trayAvailable: boolean;
  #pauseTimer: TimerHandle | undefined;
  /** Why the local server runs on another port than the one saved before (shown while running). */
  #portMoved: string | null = null;
  readonly #ownLocalUrls = new Set<string>();
  /** Serialises (re)starts of the local server: each one probes the port first. */
  #applying: Promise<void> = Promise.resolve();
  #notifications: UiState['notifications'] = { ok: true, detail: null };

  constructor(deps: DesktopDeps) {
    super();
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#trayAvailable = deps.trayAvailable ?? true;
    this.#filePath = join(deps.dataDir, 'desktop.json');
    this.#history = new AlarmHistory({ path: join(deps.dataDir, 'history.json') });
    this.#history.subscribe(() => this.emit('history', this.getHistory()));
    this.#dispatcher = new NotificationDispatcher({
      notifier: deps.notifier,
      settings: () => this.#notificationSettings(),
      clock: this.#clock,
      onError: (error) => this.notificationFailed(error),
    });
    this.#server =
      deps.launchServer === undefined
        ? null
        : new SelfHostedServer(deps.launchServer, { clock: this.#clock });
    this.#server?.on('status', (view) => {
      this.#selfHosted = view;
      this.#emitState();
    });
    this.#server?.on('listening', (url) => void this.#onLocalServer(url));
    this.#server?.on('tokens', (tokens) => void this.#onLocalTokens(tokens));
  }

  /** Loads what was saved and, when a server and its token are known, connects. */
  async start(): Promise<void> {
    const { file, damaged, firstRun } = await readDesktopFile(this.#filePath);
    if (damaged) this.#log('the settings file was damaged; starting with defaults');
    this.#file = file;
    if (firstRun && this.#server !== null) {
      // A first launch with no server configured runs one here, so the app works at once.
      await this.#saveFile({
        ...file,
        settings: { ...file.settings, selfHosted: { ...file.settings.selfHosted, enabled: true } },
      });
    }
    await this.#applySelfHosted();
    this.#schedulePauseEnd();
    if (!(await this.#history.load()))
      this.#log('the history file was damaged; starting with an empty history');
    if (file.serverUrl !== null) {
      const token = await this.#deps.credentials.get(file.serverUrl).catch((error: unknown) => {
        this.#log(`cannot read the token from the keychain: ${String(error)}`);
        return null;
      });
      if (token !== null) await this.#connect(file.serverUrl, token);
    }
    this.#emitState();
  }

  async stop(): Promise<void> {
    if (this.#pauseTimer !== undefined) this.#clock.clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
    this.#server?.stop();
    await this.#disconnect();
    await this.#dispatcher.flush();
  }

  getState(): UiState {
    const now = this.#clock.now();
    const pausedUntil =
      this.#file.pausedUntil !== null && this.#file.pausedUntil > now ? this.#file.pausedUntil : null;
    return {
      connection:
        this.#agent === null
          ? { status: 'stopped', text: this.#file.serverUrl === null ? 'Not signed in' : 'Signed out' }
          : connectionView(this.#agent.state, now),
      server: this.#file.serverUrl === null ? null : { url: this.#file.serverUrl, user: this.#user },
      pausedUntil,
      selfHosted:
        this.#portMoved !== null && this.#selfHosted.status === 'running' && this.#selfHosted.detail === null
          ? { ...this.#selfHosted, detail: this.#portMoved }
          : this.#selfHosted,
      trayAvailable: this.#trayAvailable,
      notifications: this.#notifications,
    };
  }

  /** The tray host came or went (Linux: a panel started or stopped after us). */
  setTrayAvailable(available: boolean): void {
    if (available === this.#trayAvailable) return;
    this.#trayAvailable = available;
    this.#emitState();
  }

  /**
   * A notification could not be shown (unsupported, refused by the OS, an unsigned macOS build):
   * the alarm is in history, and the user is told in the windows and the tray instead of never.
   */
  notificationFailed(error: unknown): void {
    const detail = notificationFailureText(error);
    this.#log(`notification failed: ${detail}`);
    if (!this.#notifications.ok && this.#notifications.detail === detail) return;
    this.#notifications = { ok: false, detail };
    this.#emitState();
  }

  /** A notification was shown: whatever blocked them before is gone. */
  notificationShown(): void {
    if (this.#notifications.ok) return;
    this.#notifications = { ok: true, detail: null };
    this.#emitState();
  }

  /** Verifies the token with the server, keeps it in the keychain, then connects. */
  async signIn(request: SignInRequest): Promise<SignInResult> {
    let server: string;
    try {
      server = parseAgentConfig({ server: request.serverUrl, token: request.token }).server;
    } catch {
      return { ok: false, code: 'invalid-url', message: `"${request.serverUrl}" is not a server address.` };
    }
    let user: string;
    try {
      const me = await new TocsinApi({
        server,
        token: request.token,
        ...(this.#deps.fetch !== undefined && { fetch: this.#deps.fetch }),
      }).me();
      if (me.scope === 'publish') {
        return {
          ok: false,
          code: 'forbidden',
          message: 'This is a publish token; it cannot receive alarms.',
        };
      }
      user = me.user;
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.code === 'unauthorized')
          return { ok: false, code: 'bad-token', message: 'The server rejected this token.' };
        if (error.code === 'forbidden') return { ok: false, code: 'forbidden', message: error.message };
        return { ok: false, code: 'unreachable', message: error.message };
      }
      return { ok: false, code: 'unreachable', message: String(error) };
    }
    try {
      await this.#deps.credentials.set(server, request.token);
    } catch (error) {
      if (error instanceof CredentialError) {
        return { ok: false, code: 'keychain-unavailable', message: error.message };
      }
      throw error;
    }
    await this.#saveFile({ ...this.#file, serverUrl: server });
    await this.#connect(server, request.token, user);
    return { ok: true, user };
  }

  async signOut(): Promise<void> {
    const server = this.#file.serverUrl;
    await this.#disconnect();
    if (server !== null) await this.#deps.credentials.delete(server).catch(() => false);
    await this.#saveFile({ ...this.#file, serverUrl: null });
    this.#user = null;
    this.#emitState();
  }

  /** Newest first: alarms and the notices about alarms that may be missing. */
  getHistory(): UiHistoryEntry[] {
    const entries: UiHistoryEntry[] = this.#history
      .list()
      .map((e) => ({ kind: 'alarm', alarm: e.alarm, receivedAt: e.receivedAt }));
    for (const gap of this.#gaps) entries.push({ kind: 'gap', message: gap.message, at: gap.at });
    const at = (e: UiHistoryEntry) => (e.kind === 'gap' ? e.at : e.receivedAt);
    return entries.sort((a, b) => at(b) - at(a));
  }

  /** A click on an alarm: its web link in the browser, else the history window. */
  async openAlarm(id: string): Promise<void> {
    const alarm = this.#history.list().find((e) => e.alarm.id === id)?.alarm;
    await this.#open(alarm?.url);
  }

  /** A click on a notification. */
  async openToast(toast: Toast): Promise<void> {
    await this.#open(toast.kind === 'alarm' ? toast.url : undefined);
  }

  /** What the native notification for `toast` shows on `platform` (title, escaped body, buttons). */
  notificationContent(toast: Toast, platform: NodeJS.Platform): NotificationContent {
    return notificationContent(toast, this.#alarmFor(toast), platform);
  }

  /**
   * A press on button `index` of a notification: `view` opens its link (http, https, mailto only),
   * `http` sends the alarm's request (through the injected fetch: the system proxy in the app).
   */
  async pressNotificationButton(toast: Toast, index: number, platform: NodeJS.Platform): Promise<void> {
    const button = notificationButtons(this.#alarmFor(toast), platform)[index];
    if (button === undefined) return;
    if (button.action === 'view') {
      await this.#open(button.url);
      return;
    }
    const fetchFn = this.#deps.fetch ?? fetch;
    try {
      const response = await fetchFn(button.url, {
        method: button.method ?? 'POST',
        ...(button.headers !== undefined && { headers: button.headers }),
        ...(button.body !== undefined && { body: button.body }),
      });
      await response.body?.cancel();
      if (!response.ok) this.#log(`action "${button.label}": ${button.url} answered ${response.status}`);
    } catch (error) {
      this.#log(`action "${button.label}": ${button.url} failed: ${String(error)}`);
    }
  }

  #alarmFor(toast: Toast): Alarm | undefined {
    if (toast.kind !== 'alarm') return undefined;
    const id = toast.alarmIds[0];
    return this.#history.list().find((e) => e.alarm.id === id)?.alarm;
  }

  async #open(url: string | undefined): Promise<void> {
    if (isOpenableUrl(url)) await this.#deps.openExternal(url);
    else this.#deps.showHistory();
  }

  getSettings(): DesktopSettings {
    return this.#file.settings;
  }

  async updateSettings(patch: SettingsPatch): Promise<DesktopSettings> {
    const before = this.#file.settings.selfHosted;
    const current = this.#file.settings;
    const settings = DesktopSettingsSchema.parse({
      ...current,
      ...patch,
      selfHosted: { ...current.selfHosted, ...patch.selfHosted },
    });
    await this.#saveFile({ ...this.#file, settings });
    this.emit('settings', settings);
    const after = settings.selfHosted;
    if (before.enabled !== after.enabled || before.port !== after.port || before.lan !== after.lan)
      await this.#applySelfHosted();
    this.#emitState();
    return settings;
  }

  /** The local server's publish example, for scripts on this computer (null unless it runs). */
  getPublishExample(): PublishExample | null {
    if (this.#localUrl === null || this.#publishToken === null) return null;
    return {
      url: this.#localUrl,
      token: this.#publishToken,
      curl: `curl -u :${this.#publishToken} -H "Title: nightly" -d "Backup failed" ${this.#localUrl}/backups`,
    };
  }

  /** Revokes the local publish token and mints another. */
  async regeneratePublishToken(): Promise<PublishExample | null> {
    const server = this.#server;
    if (server === null || this.#localUrl === null) return null;
    const next = new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(), 5_000);
      server.once('tokens', () => {
        this.#clock.clearTimeout(timer);
        // Let #onLocalTokens run first.
        setImmediate(resolve);
      });
    });
    server.request({ type: 'regenerate-publish-token' });
    await next;
    return this.getPublishExample();
  }

  #applySelfHosted(): Promise<void> {
    this.#applying = this.#applying
      .then(() => this.#applySelfHostedNow())
      .catch((error: unknown) => {
        this.#log(`local server: ${String(error)}`);
      });
    return this.#applying;
  }

  async #applySelfHostedNow(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    const { enabled, port: saved, lan } = this.#file.settings.selfHosted;
    if (!enabled) {
      server.stop();
      this.#localUrl = null;
      this.#publishToken = null;
      this.#portMoved = null;
      return;
    }
    // Bound to loopback unless the user opted into the LAN.
    const host = lan ? '0.0.0.0' : '127.0.0.1';
    server.stop();
    const { port, moved } = await choosePort(host, saved);
    this.#portMoved = moved;
    if (moved !== null) {
      this.#log(`local server: ${moved}`);
      // Remembered, so the next start (and the scripts the user wrote) keep the same address.
      const settings = { ...this.#file.settings, selfHosted: { ...this.#file.settings.selfHosted, port } };
      await this.#saveFile({ ...this.#file, settings });
      this.emit('settings', settings);
    }
    server.start({ host, port, dataDir: join(this.#deps.dataDir, 'server'), user: LOCAL_USER });
  }

  /** The local server is up: point the agent at it unless the user chose another server. */
  async #onLocalServer(listening: string): Promise<void> {
    const url = `http://127.0.0.1:${new URL(listening).port}`;
    this.#localUrl = url;
    // A server URL this run's local server had before (its port moved) is still "ours": follow it.
    const wasOurs = this.#file.serverUrl !== null && this.#ownLocalUrls.has(this.#file.serverUrl);
    this.#ownLocalUrls.add(url);
    if (this.#file.serverUrl !== null && this.#file.serverUrl !== url && !wasOurs) {
      this.#server?.request({ type: 'regenerate-publish-token' });
      return;
    }
    const token = await this.#deps.credentials.get(url).catch(() => null);
    if (token === null) {
      this.#server?.request({ type: 'provision' });
      return;
    }
    this.#server?.request({ type: 'regenerate-publish-token' });
    if (this.#agent === null || this.#file.serverUrl !== url) {
      await this.#saveFile({ ...this.#file, serverUrl: url });
      await this.#connect(url, token);
      this.#emitState();
    }
  }

  async #onLocalTokens(tokens: { subscribe?: string; publish?: string }): Promise<void> {
    if (tokens.publish !== undefined) this.#publishToken = tokens.publish;
    const url = this.#localUrl;
    if (tokens.subscribe !== undefined && url !== null) {
      await this.#deps.credentials.set(url, tokens.subscribe).catch((error: unknown) => {
        // Without a keychain the token lives for this run only; the next start provisions again.
        this.#log(`cannot keep the local server's token in the keychain: ${String(error)}`);
      });
      await this.#saveFile({ ...this.#file, serverUrl: url });
      await this.#connect(url, tokens.subscribe);
    }
    this.#emitState();
  }

  async pause(until: number | null): Promise<void> {
    await this.#saveFile({ ...this.#file, pausedUntil: until });
    this.#schedulePauseEnd();
    this.#emitState();
  }

  /** A pause that ends is a state change too: the tray and windows stop saying "paused". */
  #schedulePauseEnd(): void {
    if (this.#pauseTimer !== undefined) this.#clock.clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
    const until = this.#file.pausedUntil;
    const now = this.#clock.now();
    if (until === null || until <= now) return;
    // Timers cap near 24.8 days; a longer pause re-arms when this one fires.
    const delay = Math.min(until - now, 2 ** 31 - 1);
    this.#pauseTimer = this.#clock.setTimeout(() => {
      this.#pauseTimer = undefined;
      if (this.#clock.now() >= until) this.#emitState();
      else this.#schedulePauseEnd();
    }, delay);
  }

  /** The self-hosted server's status, shown in the tray and the settings window. */
  setSelfHosted(view: SelfHostedView): void {
    this.#selfHosted = view;
    this.#emitState();
  }

  /** Wake-up hints from the OS (Electron's powerMonitor and network status) go to the agent. */
  reconnectNow(): void {
    this.#agent?.reconnectNow();
  }

  #notificationSettings(): NotificationSettings {
    const { settings, pausedUntil } = this.#file;
    return {
      pausedUntil,
      urgentPiercesPause: settings.urgentPiercesPause,
      maxToasts: settings.maxToasts,
      minPriority: settings.minPriority,
    };
  }

  async #connect(server: string, token: string, user?: string): Promise<void> {
    await this.#disconnect();
    this.#user = user ?? null;
    // Position and recent alarms, one atomic write per alarm; one file per server.
    const store = new SqliteAgentStore(
      join(this.#deps.dataDir, 'agent', `${encodeURIComponent(serverOrigin(server))}.sqlite`),
    );
    importLegacyCursor(store, join(this.#deps.dataDir, 'cursor.json'), serverOrigin(server));
    const agent = new Agent(
      // Everything this token may read: its user's alarms and every topic it is allowed.
      { server, token, topics: ['*'] },
      {
        store,
        clock: this.#clock,
        ...(this.#deps.power !== undefined && { power: this.#deps.power }),
        ...(this.#deps.fetch !== undefined && { fetch: this.#deps.fetch }),
      },
    );
    agent.on('state', () => this.#emitState());
    agent.on('alarm', (alarm: Alarm) => this.#history.add(alarm, this.#clock.now()));
    agent.on('gap', (gap: GapNotice) => {
      this.#gaps.push({ message: gap.message, at: this.#clock.now() });
      this.#dispatcher.notice('Some alarms may be missing', gap.message);
      this.emit('history', this.getHistory());
    });
    agent.on('warning', (warning) => this.#log(`${warning.code}: ${warning.message}`));
    this.#detachDispatcher = this.#dispatcher.attach(agent);
    this.#agent = agent;
    if (user === undefined) {
      // Learn who we are for the UI; a failure here is the agent's to report (auth-required, offline).
      new TocsinApi({ server, token, ...(this.#deps.fetch !== undefined && { fetch: this.#deps.fetch }) })
        .me()
        .then((me) => {
          this.#user = me.user;
          this.#emitState();
        })
        .catch(() => {});
    }
    await agent.start();
  }

  async #disconnect(): Promise<void> {
    this.#detachDispatcher?.();
    this.#detachDispatcher = null;
    const agent = this.#agent;
    this.#agent = null;
    await agent?.stop();
  }

  async #saveFile(file: DesktopFile): Promise<void> {
    this.#file = file;
    await writeDesktopFile(this.#filePath, file);
  }

  #emitState(): void {
    this.emit('state', this.getState());
  }

  #log(message: string): void {
    this.#deps.log?.(message);
  }
}
