import { Notification } from 'electron';
import type { NotificationContent } from '../client/desktop/notification-content.ts';
import type { Notifier } from '../client/notifier.ts';
import { NotifierError } from '../client/notifier.ts';
import type { Toast } from '../client/policy.ts';

/** What the notifier reports back to the controller; the content is decided there (pure, tested). */
export interface ElectronNotifierDeps {
  content: (toast: Toast) => NotificationContent;
  onClick: (toast: Toast) => void;
  onButton: (toast: Toast, index: number) => void;
  /** The OS refused to show it (Electron's `failed`: macOS, Windows). */
  onFailed: (error: NotifierError) => void;
  onShown: () => void;
}

/** Keeps at most this many notifications referenced (for their click handlers), oldest dropped. */
const KEEP = 50;

/** Native notifications through Electron: urgency, silence for low priority, click → the alarm. */
export class ElectronNotifier implements Notifier {
  readonly #deps: ElectronNotifierDeps;
  // A collected Notification loses its click handler, so keep references; bounded, because on macOS
  // a kept notification never emits `close` and the set would grow forever.
  readonly #shown = new Set<Notification>();

  constructor(deps: ElectronNotifierDeps) {
    this.#deps = deps;
  }

  async notify(toast: Toast): Promise<void> {
    if (!Notification.isSupported())
      throw new NotifierError('notifications-unavailable', 'this desktop shows no notifications');
    const content = this.#deps.content(toast);
    const notification = new Notification({
      title: content.title,
      body: content.body,
      urgency: content.urgency,
      silent: content.silent,
      timeoutType: content.timeoutType,
      ...(content.sound !== undefined && { sound: content.sound }),
      actions: content.buttons.map((button) => ({ type: 'button' as const, text: button.label })),
    });
    this.#shown.add(notification);
    for (const old of this.#shown) {
      if (this.#shown.size <= KEEP) break;
      this.#shown.delete(old);
    }
    notification.on('click', () => this.#deps.onClick(toast));
    notification.on('action', (details) => this.#deps.onButton(toast, details.actionIndex));
    notification.on('show', () => this.#deps.onShown());
    notification.on('failed', (_event, error) => {
      this.#shown.delete(notification);
      this.#deps.onFailed(new NotifierError('notify-failed', error));
    });
    notification.on('close', () => this.#shown.delete(notification));
    notification.show();
  }

  async close(): Promise<void> {
    for (const n of this.#shown) n.close();
    this.#shown.clear();
  }
}
