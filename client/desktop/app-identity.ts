/**
 * The app's identity, shared with electron-builder.yml and package.json (test/packaging checks they
 * agree): Windows shows a toast only for an AppUserModelID that a Start-menu shortcut carries, and
 * the NSIS installer's shortcut carries the appId.
 */
export const APP_ID = 'dev.tocsin.app';
export const PRODUCT_NAME = 'Tocsin';

/** Installed: the appId. Run from a checkout (no shortcut exists): Electron's own executable path. */
export function appUserModelId(packaged: boolean, execPath: string): string {
  return packaged ? APP_ID : execPath;
}
