import { Message, type MessageBus } from 'dbus-next';
import { connectSessionBus } from '../notifier-dbus.ts';

/**
 * Whether a Linux desktop will show our tray icon. Electron's `new Tray()` succeeds even where no
 * panel hosts StatusNotifier items (vanilla GNOME without the AppIndicator extension), and the app
 * would then run invisibly. A host exists when org.kde.StatusNotifierWatcher has an owner and says a
 * host is registered.
 */
export const WATCHER_NAME = 'org.kde.StatusNotifierWatcher';
export const WATCHER_PATH = '/StatusNotifierWatcher';

async function call(bus: MessageBus, message: ConstructorParameters<typeof Message>[0]): Promise<unknown> {
  const reply = await bus.call(new Message(message));
  return reply?.body[0];
}

/** Asks the session bus once. Any D-Bus failure means "no host we can rely on". */
export async function hasStatusNotifierHost(bus: MessageBus): Promise<boolean> {
  try {
    const owned = await call(bus, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'NameHasOwner',
      signature: 's',
      body: [WATCHER_NAME],
    });
    if (owned !== true) return false;
    const registered = await call(bus, {
      destination: WATCHER_NAME,
      path: WATCHER_PATH,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [WATCHER_NAME, 'IsStatusNotifierHostRegistered'],
    });
    return (registered as { value?: unknown } | undefined)?.value === true;
  } catch {
    return false;
  }
}

/** What the app does with or without a tray. Pure. */
export interface TrayPolicy {
  readonly trayAvailable: boolean;
  /** `--hidden` (start at login) is honoured only when the tray can bring the app back. */
  readonly startHidden: boolean;
  /** Without a tray, closing the last window quits: nothing could reopen it. */
  readonly quitWhenAllWindowsClosed: boolean;
}

export function trayPolicy(input: {
  platform: NodeJS.Platform;
  /** Linux only: the answer of hasStatusNotifierHost (null: no session bus at all). */
  hostPresent: boolean | null;
  /** This run was started at login (see autostart.ts startedAtLogin). */
  startedAtLogin: boolean;
}): TrayPolicy {
  // macOS always has its menu bar, Windows its notification area.
  const trayAvailable = input.platform !== 'linux' || input.hostPresent === true;
  return {
    trayAvailable,
    startHidden: trayAvailable && input.startedAtLogin,
    quitWhenAllWindowsClosed: !trayAvailable,
  };
}

export interface TrayHostWatch {
  /** The latest answer. */
  readonly present: boolean;
  stop(): void;
}

/**
 * Watches the session bus for a StatusNotifier host: asks at once, again whenever the watcher name
 * changes owner, and at `recheckMs` (a panel may start after us at login).
 */
export async function watchTrayHost(options: {
  address: string | undefined;
  onChange: (present: boolean) => void;
  recheckMs?: readonly number[];
}): Promise<TrayHostWatch> {
  if (options.address === undefined || options.address === '') {
    return { present: false, stop: () => {} };
  }
  let bus: MessageBus;
  try {
    bus = connectSessionBus(options.address);
  } catch {
    return { present: false, stop: () => {} };
  }
  // A bus that goes away must not crash the app.
  bus.on('error', () => {});
  let present = await hasStatusNotifierHost(bus);
  let stopped = false;
  const recheck = async () => {
    if (stopped) return;
    const now = await hasStatusNotifierHost(bus);
    if (stopped || now === present) return;
    present = now;
    options.onChange(now);
  };
  const timers = (options.recheckMs ?? [5_000, 30_000]).map((ms) => setTimeout(() => void recheck(), ms));
  for (const timer of timers) timer.unref?.();
  const match = `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${WATCHER_NAME}'`;
  const matchHosts = `type='signal',interface='${WATCHER_NAME}',member='StatusNotifierHostRegistered'`;
  bus.on('message', (message: Message) => {
    if (message.member === 'NameOwnerChanged' && message.body[0] === WATCHER_NAME) void recheck();
    else if (message.member === 'StatusNotifierHostRegistered') void recheck();
  });
  for (const rule of [match, matchHosts]) {
    await call(bus, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'AddMatch',
      signature: 's',
      body: [rule],
    }).catch(() => {});
  }
  return {
    get present() {
      return present;
    },
    stop: () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      bus.disconnect();
    },
  };
}
