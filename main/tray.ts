import { join } from 'node:path';
import { Menu, type MenuItemConstructorOptions, nativeImage, Tray } from 'electron';
import type { DesktopSettings, UiState } from '../client/desktop/api.ts';
import {
  sameTrayView,
  type TrayAction,
  type TrayItem,
  type TrayView,
  trayView,
} from '../client/desktop/tray-menu.ts';

/** The tray: icon per state, and the menu from the pure trayMenu(); clicks become TrayActions. */
export class AppTray {
  readonly #tray: Tray;
  readonly #iconDir: string;
  readonly #onAction: (action: TrayAction) => void;
  #shown: TrayView | null = null;

  readonly #icoDir: string;

  /** `iconDir`: assets/icons (PNG); `icoDir`: dist/main/icons (Windows .ico, built). */
  constructor(iconDir: string, icoDir: string, onAction: (action: TrayAction) => void) {
    this.#iconDir = iconDir;
    this.#icoDir = icoDir;
    this.#onAction = onAction;
    this.#tray = new Tray(this.#icon('offline'));
    // Windows users left-click a tray icon to open the app (the menu is on right-click there).
    if (process.platform === 'win32') this.#tray.on('click', () => this.#onAction('open-history'));
  }

  /** The menu as last rendered, for tests and accessibility checks. */
  get items(): readonly TrayItem[] {
    return this.#shown?.items ?? [];
  }

  #icon(name: TrayView['icon']): Electron.NativeImage {
    // Windows: an .ico with 16 and 32 px images, so the tray stays sharp at every display scale.
    if (process.platform === 'win32')
      return nativeImage.createFromPath(join(this.#icoDir, `tray-${name}.ico`));
    // macOS wants monochrome template images that follow the menu bar's appearance.
    // Linux panels draw tray icons at 22–32 px: the 32 px image, scaled down, stays sharp there.
    const file =
      process.platform === 'darwin'
        ? `tray-${name}Template.png`
        : process.platform === 'linux'
          ? `tray-${name}@2x.png`
          : `tray-${name}.png`;
    const image = nativeImage.createFromPath(join(this.#iconDir, file));
    if (process.platform === 'darwin') image.setTemplateImage(true);
    return image;
  }

  /** Applies the view for this state; only the parts that changed are touched. */
  update(state: UiState, settings: DesktopSettings): void {
    const next = trayView(state, settings, Date.now());
    const shown = this.#shown;
    if (sameTrayView(shown, next)) return;
    if (shown?.icon !== next.icon) this.#tray.setImage(this.#icon(next.icon));
    if (shown?.tooltip !== next.tooltip) this.#tray.setToolTip(next.tooltip);
    if (shown === null || JSON.stringify(shown.items) !== JSON.stringify(next.items))
      this.#tray.setContextMenu(Menu.buildFromTemplate(next.items.map((item) => this.#toElectron(item))));
    this.#shown = next;
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
