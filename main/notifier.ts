import { Notification } from 'electron';
import type { Notifier } from '../client/notifier.ts';
import { NotifierError } from '../client/notifier.ts';
import type { Toast } from '../client/policy.ts';

/** Native notifications through Electron: urgency, silence for low priority, click → the alarm. */
export class ElectronNotifier implements Notifier {
  readonly #onClick: (toast: Toast) => void;
  readonly #shown = new Set<Notification>(); // keep references: a collected Notification loses its click handler

  constructor(onClick: (toast: Toast) => void) {
    this.#onClick = onClick;
  }

  async notify(toast: Toast): Promise<void> {
    if (!Notification.isSupported())
      throw new NotifierError('notifications-unavailable', 'this desktop shows no notifications');
    const notification = new Notification({
      title: toast.title,
      body: toast.body,
      urgency: toast.urgency,
      silent: toast.sound === 'none',
      timeoutType: toast.urgency === 'critical' ? 'never' : 'default',
    });
    this.#shown.add(notification);
    notification.on('click', () => this.#onClick(toast));
    notification.on('close', () => this.#shown.delete(notification));
    notification.show();
  }

  async close(): Promise<void> {
    for (const n of this.#shown) n.close();
    this.#shown.clear();
  }
}
