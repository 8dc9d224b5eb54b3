import type { DesktopController } from '../client/desktop/controller.ts';
import { pauseEnd, type TrayAction } from '../client/desktop/tray-menu.ts';
import type { Windows } from './windows.ts';

/** What each tray item does. */
export function trayActions(deps: { controller: DesktopController; windows: Windows; quit: () => void }) {
  const { controller, windows } = deps;
  return (action: TrayAction): void => {
    const now = Date.now();
    switch (action) {
      case 'pause-1h':
      case 'pause-tomorrow':
        void controller.pause(pauseEnd(action, now));
        return;
      case 'resume':
        void controller.pause(null);
        return;
      case 'open-history':
        windows.show('history');
        return;
      case 'open-settings':
        windows.show('settings');
        return;
      case 'sign-in':
        windows.show('signin');
        return;
      case 'toggle-self-hosted': {
        const { enabled } = controller.getSettings().selfHosted;
        void controller.updateSettings({ selfHosted: { enabled: !enabled } });
        return;
      }
      case 'toggle-start-at-login':
        void controller.updateSettings({ startAtLogin: !controller.getSettings().startAtLogin });
        return;
      case 'quit':
        deps.quit();
        return;
    }
  };
}
