import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { app } from 'electron';
import { autostartEntry, loginItemSettings } from '../client/desktop/autostart.ts';

/** Start at login: the OS's own setting on macOS/Windows, an XDG autostart entry on Linux. */
export async function setStartAtLogin(enabled: boolean): Promise<void> {
  if (process.platform === 'darwin' || process.platform === 'win32') {
    // Windows passes --hidden to the login start; macOS reports wasOpenedAtLogin instead.
    app.setLoginItemSettings(loginItemSettings(enabled));
    return;
  }
  const dir = join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'autostart');
  const file = join(dir, 'tocsin.desktop');
  if (!enabled) {
    await rm(file, { force: true });
    return;
  }
  await mkdir(dir, { recursive: true });
  // An AppImage must be started through $APPIMAGE, not the temporary mount it runs from.
  await writeFile(file, autostartEntry(process.env.APPIMAGE ?? process.execPath));
}
