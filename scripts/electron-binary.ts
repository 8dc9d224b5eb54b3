// Finds the Electron executable WITHOUT touching `require('electron')`: since electron 45 that call
// downloads the binary on first use, which hangs or fails on machines without internet. This mirrors
// node_modules/electron/index.js (path.txt + dist/, or ELECTRON_OVERRIDE_DIST_PATH) read-only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ELECTRON_DIR = fileURLToPath(new URL('../node_modules/electron/', import.meta.url));

export type ElectronBinary =
  | { readonly available: true; readonly path: string }
  | { readonly available: false; readonly reason: string };

export const INSTALL_HINT =
  'On a machine with internet run `npx install-electron` (electron 45 fetches its binary on first use), ' +
  'or set ELECTRON_OVERRIDE_DIST_PATH to a directory holding an Electron build.';

export function findElectron(env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  const pathFile = join(ELECTRON_DIR, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override !== undefined && override !== '') {
    const path = join(override, relative ?? defaultExecutable());
    return existsSync(path)
      ? { available: true, path }
      : { available: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${path} does not exist.` };
  }
  if (relative === undefined) {
    return {
      available: false,
      reason:
        "Electron's binary is not installed (node_modules/electron/path.txt is missing) and cannot be downloaded here.",
    };
  }
  const path = join(ELECTRON_DIR, 'dist', relative);
  return existsSync(path)
    ? { available: true, path }
    : { available: false, reason: `Electron's binary is not installed: ${path} does not exist.` };
}

/** The executable name electron's own install.js would record for this platform. */
function defaultExecutable(): string {
  switch (process.platform) {
    case 'darwin':
      return 'Electron.app/Contents/MacOS/Electron';
    case 'win32':
      return 'electron.exe';
    default:
      return 'electron';
  }
}
