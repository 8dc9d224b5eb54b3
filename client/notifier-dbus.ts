import { Message, type MessageBus, sessionBus, Variant } from 'dbus-next';
import { stripControlChars } from '../protocol/index.ts';
import { type Notifier, NotifierError } from './notifier.ts';
import type { Toast, Urgency } from './policy.ts';

const SERVICE = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';
const APP_NAME = 'Tocsin';

/** The Desktop Notifications Specification's urgency levels (hint "urgency", a byte). */
const URGENCY_BYTE: Record<Urgency, number> = { low: 0, normal: 1, critical: 2 };

export interface DbusNotifierOptions {
  /** The session bus address (DBUS_SESSION_BUS_ADDRESS, read by the caller at the edge). */
  readonly busAddress: string | undefined;
  /** How long a popup stays up unless sticky (default 10 s); -1: the notification server's default. */
  readonly expireTimeoutMs?: number;
  /** A notification server that does not answer must not stall the alarms behind it. */
  readonly callTimeoutMs?: number;
}

/**
 * dbus-next opens `unix:path=` and `unix:abstract=` addresses through the optional `usocket` addon,
 * which calls `util.isError` (removed in Node 23) and throws on its first write. We never pass file
 * descriptors, so route those addresses through dbus-next's plain `net` transport (`unix:socket=`);
 * a Linux abstract socket is a path that starts with a NUL byte.
 */
export function netBusAddress(address: string): string {
  return address
    .split(';')
    .map((entry) => {
      if (!entry.startsWith('unix:')) return entry;
      const params = entry
        .slice('unix:'.length)
        .split(',')
        .map((param) => {
          const eq = param.indexOf('=');
          const key = param.slice(0, eq);
          const value = decodeDbusValue(param.slice(eq + 1));
          if (key === 'path') return `socket=${value}`;
          if (key === 'abstract') return `socket=\u0000${value}`;
          return param;
        });
      return `unix:${params.join(',')}`;
    })
    .join(';');
}

/** D-Bus addresses %-escape bytes in values. */
function decodeDbusValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A session bus connection that works on Node 24 (see netBusAddress). */
export function connectSessionBus(address: string): MessageBus {
  return sessionBus({ busAddress: netBusAddress(address) });
}

/** Bodies may be rendered as markup (the "body-markup" capability): show text as text. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * freedesktop notifications (org.freedesktop.Notifications.Notify) over the session bus, with the
 * plain message API: no introspection round trip, and it works with every notification server.
 */
export class DbusNotifier implements Notifier {
  readonly #options: DbusNotifierOptions;
  #bus: MessageBus | null = null;
  #closed = false;

  constructor(options: DbusNotifierOptions) {
    this.#options = options;
  }

  #connect(): MessageBus {
    if (this.#closed) throw new NotifierError('notifications-unavailable', 'the notifier is closed');
    if (this.#bus !== null) return this.#bus;
    const address = this.#options.busAddress;
    if (address === undefined || address === '') {
      throw new NotifierError(
        'notifications-unavailable',
        'no desktop session bus (DBUS_SESSION_BUS_ADDRESS is not set); desktop notifications need a graphical session',
      );
    }
    let bus: MessageBus;
    try {
      bus = connectSessionBus(address);
    } catch (error) {
      throw new NotifierError(
        'notifications-unavailable',
        `cannot reach the desktop session bus (${(error as Error).message})`,
        { cause: error },
      );
    }
    // The bus emits 'error' when its connection fails; unhandled, an EventEmitter error would crash us.
    bus.on('error', () => {
      if (this.#bus === bus) this.#bus = null;
    });
    this.#bus = bus;
    return bus;
  }

  async notify(toast: Toast): Promise<void> {
    const bus = this.#connect();
    const hints: Record<string, Variant> = {
      urgency: new Variant('y', URGENCY_BYTE[toast.urgency]),
      'desktop-entry': new Variant('s', 'tocsin'),
      category: new Variant('s', toast.kind === 'notice' ? 'network' : 'im.received'),
    };
    if (toast.sound === 'none') hints['suppress-sound'] = new Variant('b', true);
    if (toast.sound === 'alarm') hints['sound-name'] = new Variant('s', 'alarm-clock-elapsed');
    // Only a sticky toast stays until dismissed; everything else expires, urgent included, so a storm
    // cannot leave a wall of popups behind.
    const expire = toast.sticky === true ? 0 : (this.#options.expireTimeoutMs ?? 10_000);
    const message = new Message({
      destination: SERVICE,
      path: PATH,
      interface: SERVICE,
      member: 'Notify',
      signature: 'susssasa{sv}i',
      body: [
        APP_NAME,
        0,
        '',
        stripControlChars(toast.title),
        escapeMarkup(stripControlChars(toast.body)),
        [],
        hints,
        expire,
      ],
    });
    const timeoutMs = this.#options.callTimeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NotifierError('notifications-unavailable', 'the desktop session bus did not answer in time'),
          ),
        timeoutMs,
      );
    });
    let onError: ((error: unknown) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      onError = (error) =>
        reject(
          new NotifierError(
            'notifications-unavailable',
            `the desktop session bus failed (${String(error)})`,
            {
              cause: error,
            },
          ),
        );
      bus.on('error', onError);
    });
    try {
      await Promise.race([bus.call(message), timeout, failed]);
    } catch (error) {
      if (error instanceof NotifierError) {
        if (this.#bus === bus) this.#bus = null;
        bus.disconnect();
        throw error;
      }
      const name = (error as { type?: unknown }).type;
      const unavailable =
        name === 'org.freedesktop.DBus.Error.ServiceUnknown' ||
        name === 'org.freedesktop.DBus.Error.NameHasNoOwner';
      throw new NotifierError(
        unavailable ? 'notifications-unavailable' : 'notify-failed',
        unavailable
          ? 'no notification server is running on this desktop session'
          : `the notification server refused the notification (${(error as Error).message})`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
      if (onError !== undefined) bus.off('error', onError);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#bus?.disconnect();
    this.#bus = null;
  }
}
