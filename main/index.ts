// Tocsin's Electron main process: it only wires client/ (tested without Electron) to Electron's APIs.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, Notification, net, powerMonitor, protocol, shell } from 'electron';
import { DEFAULT_DESKTOP_SETTINGS, IpcEvent } from '../client/desktop/api.ts';
import { appUserModelId } from '../client/desktop/app-identity.ts';
import { openAppLog } from '../client/desktop/app-log.ts';
import { APP_SCHEME, serveAppFile } from '../client/desktop/app-scheme.ts';
import { startedAtLogin } from '../client/desktop/autostart.ts';
import { DesktopController } from '../client/desktop/controller.ts';
import { LateActivation } from '../client/desktop/notification-activation.ts';
import { QuitGate } from '../client/desktop/quit.ts';
import {
  type TrayHostWatch,
  type TrayPolicy,
  trayPolicy,
  watchTrayHost,
} from '../client/desktop/tray-host.ts';
import { placeholderState } from '../client/desktop/ui-state.ts';
import type { Notifier } from '../client/notifier.ts';
import type { FetchFunction } from '../client/stream.ts';
import { trayActions } from './actions.ts';
import { setStartAtLogin } from './autostart.ts';
import { desktopCredentials } from './credentials.ts';
import { registerIpcHandlers } from './ipc.ts';
import { ElectronNotifier } from './notifier.ts';
import { electronPowerEvents } from './power.ts';
import { utilityServerLauncher } from './self-hosted.ts';
import { installTestHook, type RecordedNotification, recordingNotifier } from './test-hook.ts';
import { AppTray } from './tray.ts';
import { Windows } from './windows.ts';

const here = fileURLToPath(new URL('.', import.meta.url)); // dist/main
const e2e = process.env.TOCSIN_E2E === '1';
if (process.env.TOCSIN_USER_DATA) app.setPath('userData', process.env.TOCSIN_USER_DATA);
// Before the first notification: Windows shows no toast for an app without an AppUserModelID.
if (process.platform === 'win32') app.setAppUserModelId(appUserModelId(app.isPackaged, process.execPath));
if (!app.requestSingleInstanceLock()) app.exit(0);
// The windows' pages come from our own scheme (see client/desktop/app-scheme.ts); it must be
// registered before `ready`. Standard + secure: a normal origin for CSP 'self', no mixed content;
// CORS-enabled: Vite's module scripts are fetched in CORS mode (`crossorigin`), same origin or not.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
  },
]);

// A packaged app has no terminal: everything worth knowing goes to a rotating file in the OS's log
// folder (Linux ~/.config/Tocsin/logs, macOS ~/Library/Logs/Tocsin, Windows %APPDATA%\Tocsin\logs).
const log = openAppLog({
  dir: app.getPath('logs'),
  echo: app.isPackaged ? undefined : (line) => console.warn(`tocsin: ${line}`),
});
process.on('uncaughtException', (error) => log(`uncaught: ${error.stack ?? String(error)}`));
process.on('unhandledRejection', (reason) => log(`unhandled rejection: ${String(reason)}`));

// Electron's network stack: the system proxy (and PAC), the OS certificate store, and the same
// loopback rules as the browser, for sign-in and the agent's stream alike.
const electronFetch: FetchFunction = (input, init) => net.fetch(String(input), init);

let stopEverything: () => Promise<void> = async () => {};
const quitGate = new QuitGate({
  stop: async () => {
    await stopEverything();
    log('quit');
    await log.close();
  },
  exit: () => app.exit(0),
});
const quit = () => {
  quitGate.request();
};
// Cmd+Q, the dock's Quit, logout and shutdown (macOS, Linux's SIGTERM) all pass through here.
app.on('before-quit', (event) => {
  if (quitGate.request()) event.preventDefault();
});

app.whenReady().then(async () => {
  log(
    `starting ${app.getName()} ${app.getVersion()} (${process.platform}, Electron ${process.versions.electron})`,
  );
  const rendererDir = join(here, '../renderer');
  protocol.handle(APP_SCHEME, (request) => serveAppFile(request, rendererDir));
  // Windows logout/shutdown reaches the windows (session-end), Linux/macOS the power monitor.
  const windows = new Windows({ preload: join(here, 'preload.cjs'), onSessionEnd: quit });
  powerMonitor.on('shutdown', () => {
    quitGate.request();
  });
  const power = electronPowerEvents();
  const notifications: RecordedNotification[] = [];
  const userData = app.getPath('userData');
  let controller: DesktopController | null = null;
  let startFailed = false;

  // The tray comes first, with Quit: the keychain may take long to answer (or ask for a password).
  const onTrayAction = (action: Parameters<ReturnType<typeof trayActions>>[0]) => {
    if (action === 'quit' || controller === null || startFailed) {
      if (action === 'quit') quit();
      return;
    }
    trayActions({ controller, windows, quit })(action);
  };
  const tray = new AppTray(join(app.getAppPath(), 'assets/icons'), join(here, 'icons'), onTrayAction);
  tray.update(placeholderState('Starting…'), DEFAULT_DESKTOP_SETTINGS);

  try {
    // Windows: clicks on toasts in Action Center whose Notification object is gone.
    const late = new LateActivation({ fallback: () => windows.show('history') });
    if (process.platform === 'win32') Notification.handleActivation(() => late.activated());
    let notifier: Notifier = new ElectronNotifier({
      content: (toast) => (controller as DesktopController).notificationContent(toast, process.platform),
      onClick: (toast) => {
        late.handled();
        void controller?.openToast(toast);
      },
      onButton: (toast, index) => {
        late.handled();
        void controller?.pressNotificationButton(toast, index, process.platform);
      },
      onFailed: (error) => controller?.notificationFailed(error),
      onShown: () => controller?.notificationShown(),
    });
    if (e2e) notifier = recordingNotifier(notifier, notifications);
    const c = new DesktopController({
      dataDir: userData,
      credentials: desktopCredentials(userData, log),
      notifier,
      power: power.events,
      fetch: electronFetch,
      openExternal: (url) => shell.openExternal(url),
      showHistory: () => windows.show('history'),
      launchServer: utilityServerLauncher(join(here, '../server/embedded.js')),
      log,
    });
    controller = c;
    let hostWatch: TrayHostWatch | null = null;
    stopEverything = async () => {
      power.dispose();
      hostWatch?.stop();
      await c.stop();
      tray.destroy(); // no ghost icon left in the Windows notification area
    };

    const loginStart = startedAtLogin({
      argv: process.argv,
      wasOpenedAtLogin: process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin,
    });
    // Linux: is there a panel that hosts StatusNotifier items? Elsewhere the tray always shows.
    let policy: TrayPolicy = trayPolicy({
      platform: process.platform,
      hostPresent: null,
      startedAtLogin: loginStart,
    });
    hostWatch =
      process.platform === 'linux'
        ? await watchTrayHost({
            address: process.env.DBUS_SESSION_BUS_ADDRESS,
            onChange: (present) => {
              log(`tray host ${present ? 'appeared' : 'went away'}`);
              policy = trayPolicy({
                platform: process.platform,
                hostPresent: present,
                startedAtLogin: loginStart,
              });
              c.setTrayAvailable(policy.trayAvailable);
            },
          })
        : null;
    policy = trayPolicy({
      platform: process.platform,
      hostPresent: hostWatch?.present ?? null,
      startedAtLogin: loginStart,
    });
    c.setTrayAvailable(policy.trayAvailable);
    if (!policy.trayAvailable) log('no StatusNotifier host: the windows carry the controls');
    // Without a tray nothing could bring a window back: closing the last one quits.
    app.on('window-all-closed', () => {
      if (policy.quitWhenAllWindowsClosed) quit();
    });

    if (e2e) installTestHook({ controller: c, tray, power: power.events, notifications, onTrayAction });
    registerIpcHandlers({
      controller: c,
      isTrusted: windows.isTrusted,
      showWindow: (name) => windows.show(name),
      quit,
    });
    c.on('history', (entries) => windows.broadcast(IpcEvent.history, entries));
    c.on('settings', (settings) => windows.broadcast(IpcEvent.settings, settings));
    await c.start();
    let startAtLogin = c.getSettings().startAtLogin;
    const onState = () => {
      const state = c.getState();
      tray.update(state, c.getSettings());
      windows.broadcast(IpcEvent.state, state);
      if (c.getSettings().startAtLogin !== startAtLogin) {
        startAtLogin = c.getSettings().startAtLogin;
        void setStartAtLogin(startAtLogin).catch((error: unknown) => log(`start at login: ${String(error)}`));
      }
    };
    c.on('state', onState);
    onState();
    // No server and no local one: ask. Started by hand, or at login on a desktop without a tray
    // (where starting hidden would leave the app invisible): show the history.
    if (c.getState().server === null && !c.getSettings().selfHosted.enabled) windows.show('signin');
    else if (!policy.startHidden) windows.show('history');
    app.on('second-instance', () => windows.show('history'));
    // macOS: a click on the dock icon with no window open brings the history back.
    app.on('activate', () => windows.show('history'));
  } catch (error) {
    startFailed = true;
    const message = error instanceof Error ? error.message : String(error);
    log(`could not start: ${error instanceof Error ? (error.stack ?? message) : message}`);
    tray.update(placeholderState(`Tocsin could not start: ${message}`), DEFAULT_DESKTOP_SETTINGS);
    dialog.showErrorBox(
      'Tocsin could not start',
      `${message}\n\nDetails are in ${join(app.getPath('logs'), 'tocsin.log')}. Quit from the tray icon or this dialog's app.`,
    );
    if (process.platform === 'linux') quit(); // the tray may not even show there
  }
});

// Until the tray policy is known, keep the app alive with every window closed (the default quits).
app.on('window-all-closed', () => {});
