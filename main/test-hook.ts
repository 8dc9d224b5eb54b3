import type { DesktopController } from '../client/desktop/controller.ts';
import type { TrayAction } from '../client/desktop/tray-menu.ts';
import type { Notifier } from '../client/notifier.ts';
import type { PowerEvent, PowerEventHub } from '../client/power.ts';
import type { AppTray } from './tray.ts';

export interface RecordedNotification {
  title: string;
  body: string;
  urgency: string;
}

/** Passes every notification on, and remembers it for the end-to-end tests. */
export function recordingNotifier(inner: Notifier, sink: RecordedNotification[]): Notifier {
  return {
    notify: async (toast) => {
      sink.push({ title: toast.title, body: toast.body, urgency: toast.urgency });
      await inner.notify(toast);
    },
    close: () => inner.close(),
  };
}

/**
 * With TOCSIN_E2E=1 only: what Playwright's electronApp.evaluate() reads and drives. It observes
 * notifications and lets a test press tray items and send power events; it changes no behaviour.
 */
export function installTestHook(deps: {
  controller: DesktopController;
  tray: AppTray;
  power: PowerEventHub;
  notifications: RecordedNotification[];
  onTrayAction: (action: TrayAction) => void;
}): void {
  (globalThis as Record<string, unknown>).__tocsinTest = {
    notifications: deps.notifications,
    trayMenu: () => deps.tray.items,
    clickTrayItem: (id: TrayAction) => deps.onTrayAction(id),
    emitPower: (event: PowerEvent) => deps.power.emit(event),
    state: () => deps.controller.getState(),
  };
}
