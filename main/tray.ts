import { join } from 'node:path';
import { Menu, type MenuItemConstructorOptions, nativeImage, Tray } from 'electron';
import {
  type TrayAction,
  type TrayItem,
  trayIcon,
  trayMenu,
  trayTooltip,
} from '../client/desktop/tray-menu.ts';
import type { DesktopSettings, UiState } from '../client/desktop-api.ts';

/** The tray: icon per state, and the menu from the pure trayMenu(); clicks become TrayActions. */
export class AppTray {
  readonly #tray: Tray;
  readonly #iconDir: string;
  readonly #onAction: (action: TrayAction) => void;
  #items: TrayItem[] = [];

  constructor(iconDir: string, onAction: (action: TrayAction) => void) {
    this.#iconDir = iconDir;
    this.#onAction = onAction;
    this.#tray = new Tray(this.#icon('offline'));
  }

  /** The menu as last rendered, for tests and accessibility checks. */
  get items(): readonly TrayItem[] {
    return this.#items;
  }

  #icon(name: ReturnType<typeof trayIcon>): Electron.NativeImage {
    // macOS wants monochrome template images that follow the menu bar's appearance.
    const file = process.platform === 'darwin' ? `tray-${name}Template.png` : `tray-${name}.png`;
    const image = nativeImage.createFromPath(join(this.#iconDir, file));
    if (process.platform === 'darwin') image.setTemplateImage(true);
    return image;
  }

  update(state: UiState, settings: DesktopSettings): void {
    const now = Date.now();
    this.#items = trayMenu(state, settings, now);
    this.#tray.setImage(this.#icon(trayIcon(state, now)));
    this.#tray.setToolTip(trayTooltip(state, now));
    this.#tray.setContextMenu(Menu.buildFromTemplate(this.#items.map((item) => this.#toElectron(item))));
  }

  #toElectron(item: TrayItem): MenuItemConstructorOptions {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'action':
        return {
          id: item.id,
          label: item.label,
          enabled: item.enabled,
          click: () => this.#onAction(item.id),
        };
      case 'checkbox':
        return {
          id: item.id,
          label: item.label,
          type: 'checkbox',
          checked: item.checked,
          click: () => this.#onAction(item.id),
        };
    }
  }

  destroy(): void {
    this.#tray.destroy();
  }
}
