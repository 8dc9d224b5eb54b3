// Tocsin's Electron main process: it only wires client/ (tested without Electron) to Electron's APIs.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, protocol, shell } from 'electron';
import { APP_SCHEME, serveAppFile } from '../client/desktop/app-scheme.ts';
import { startedAtLogin } from '../client/desktop/autostart.ts';
import { DesktopController } from '../client/desktop/controller.ts';
import { type TrayPolicy, trayPolicy, watchTrayHost } from '../client/desktop/tray-host.ts';
import { IpcEvent } from '../client/desktop-api.ts';
import type { Notifier } from '../client/notifier.ts';
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
if (process.platform === 'win32') app.setAppUserModelId('dev.tocsin.app'); // Windows shows no toasts without it
if (!app.requestSingleInstanceLock()) app.exit(0);
// The windows' pages come from our own scheme (see client/desktop/app-scheme.ts); it must be
// registered before `ready`. Standard + secure: a normal origin for CSP 'self', no mixed content.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

app.whenReady().then(async () => {
  const log = (message: string) => console.warn(`tocsin: ${message}`);
  const userData = app.getPath('userData');
  const rendererDir = join(here, '../renderer');
  protocol.handle(APP_SCHEME, (request) => serveAppFile(request, rendererDir));
  const windows = new Windows({ preload: join(here, 'preload.cjs') });
  const power = electronPowerEvents();
  const notifications: RecordedNotification[] = [];
  let controller: DesktopController;
  let notifier: Notifier = new ElectronNotifier({
    content: (toast) => controller.notificationContent(toast, process.platform),
    onClick: (toast) => void controller.openToast(toast),
    onButton: (toast, index) => void controller.pressNotificationButton(toast, index, process.platform),
    onFailed: (error) => controller.notificationFailed(error),
    onShown: () => controller.notificationShown(),
  });
  if (e2e) notifier = recordingNotifier(notifier, notifications);
  controller = new DesktopController({
    dataDir: userData,
    credentials: desktopCredentials(userData, log),
    notifier,
    power: power.events,
    openExternal: (url) => shell.openExternal(url),
    showHistory: () => windows.show('history'),
    launchServer: utilityServerLauncher(join(here, '../server/embedded.js')),
    log,
  });
  const quit = () => void controller.stop().finally(() => app.exit(0));
  const onTrayAction = trayActions({ controller, windows, quit });
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
  const hostWatch =
    process.platform === 'linux'
      ? await watchTrayHost({
          address: process.env.DBUS_SESSION_BUS_ADDRESS,
          onChange: (present) => {
            policy = trayPolicy({
              platform: process.platform,
              hostPresent: present,
              startedAtLogin: loginStart,
            });
            controller.setTrayAvailable(policy.trayAvailable);
          },
        })
      : null;
  policy = trayPolicy({
    platform: process.platform,
    hostPresent: hostWatch?.present ?? null,
    startedAtLogin: loginStart,
  });
  controller.setTrayAvailable(policy.trayAvailable);
  // Without a tray nothing could bring a window back: closing the last one quits.
  app.on('window-all-closed', () => {
    if (policy.quitWhenAllWindowsClosed) quit();
  });
  const tray = new AppTray(join(app.getAppPath(), 'assets/icons'), onTrayAction);
  if (e2e) installTestHook({ controller, tray, power: power.events, notifications, onTrayAction });
  registerIpcHandlers({
    controller,
    isTrusted: windows.isTrusted,
    showWindow: (name) => windows.show(name),
    quit,
  });
  controller.on('history', (entries) => windows.broadcast(IpcEvent.history, entries));
  controller.on('settings', (settings) => windows.broadcast(IpcEvent.settings, settings));
  await controller.start();
  let startAtLogin = controller.getSettings().startAtLogin;
  const onState = () => {
    const state = controller.getState();
    tray.update(state, controller.getSettings());
    windows.broadcast(IpcEvent.state, state);
    if (controller.getSettings().startAtLogin !== startAtLogin) {
      startAtLogin = controller.getSettings().startAtLogin;
      void setStartAtLogin(startAtLogin).catch((error: unknown) => log(`start at login: ${String(error)}`));
    }
  };
  controller.on('state', onState);
  onState();
  // No server and no local one: ask. Started by hand, or at login on a desktop without a tray
  // (--hidden is ignored there: the app would be invisible), show the history.
  if (controller.getState().server === null && !controller.getSettings().selfHosted.enabled)
    windows.show('signin');
  else if (!policy.startHidden) windows.show('history');
  app.on('second-instance', () => windows.show('history'));
  app.on('before-quit', () => {
    power.dispose();
    hostWatch?.stop();
  });
});

// Until the tray policy is known, keep the app alive with every window closed (the default quits).
app.on('window-all-closed', () => {});
