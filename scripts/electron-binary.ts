// Finds the Electron executable WITHOUT touching `require('electron')`: since electron 45 that call
// downloads the binary on first use, which hangs or fails on machines without internet. This mirrors
// node_modules/electron/index.js (path.txt + dist/, or ELECTRON_OVERRIDE_DIST_PATH) read-only.
// ensureElectron() installs it when missing, with electron's own installer (what its postinstall
// used to run), after fetching the archive into electron's download cache with visible progress.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ELECTRON_DIR = fileURLToPath(new URL('../node_modules/electron/', import.meta.url));

export type ElectronBinary =
  | { readonly available: true; readonly path: string }
  | { readonly available: false; readonly reason: string };

export const INSTALL_HINT =
  'It is needed once, with internet: `npm start` then downloads it (about 100 MB) from GitHub or ' +
  'ELECTRON_MIRROR (through HTTPS_PROXY when ELECTRON_GET_USE_PROXY=1). Offline, point ' +
  'ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron 45.';

export function findElectron(
  env: NodeJS.ProcessEnv = process.env,
  electronDir: string = ELECTRON_DIR,
): ElectronBinary {
  const pathFile = join(electronDir, 'path.txt');
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
  const path = join(electronDir, 'dist', relative);
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

/** One line of download progress: "Downloading Electron 45.4.1: 37% (41.2 of 111.0 MB)". */
export function progressLine(
  version: string,
  p: { transferred: number; total: number | null; percent: number },
): string {
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(1);
  const of = p.total === null ? `${mb(p.transferred)} MB` : `${mb(p.transferred)} of ${mb(p.total)} MB`;
  return `Downloading Electron ${version}: ${Math.floor(p.percent * 100)}% (${of})`;
}

interface ElectronGet {
  downloadArtifact(details: Record<string, unknown>): Promise<string>;
}

/**
 * Makes sure Electron's binary is installed: when it is missing, fetches the archive into
 * electron's download cache (with a progress line on `out`), then runs electron's own install.js,
 * which finds it cached, checks it and unpacks it. Resolves to findElectron()'s answer afterwards;
 * a failed download leaves nothing half-installed and its reason in `reason`.
 */
export async function ensureElectron(
  options: {
    env?: NodeJS.ProcessEnv;
    electronDir?: string;
    out?: (line: string, final: boolean) => void;
  } = {},
): Promise<ElectronBinary> {
  const env = options.env ?? process.env;
  const dir = options.electronDir ?? ELECTRON_DIR;
  const found = findElectron(env, dir);
  if (found.available || (env.ELECTRON_OVERRIDE_DIST_PATH ?? '') !== '') return found;
  const out =
    options.out ?? ((line: string, final: boolean) => process.stderr.write(`\r${line}${final ? '\n' : ''}`));
  const require = createRequire(join(dir, 'install.js'));
  const { version } = require('./package.json') as { version: string };
  try {
    // The same artifact, cache and checksums install.js asks for; only the progress is ours.
    const get = (await import(pathToFileURL(require.resolve('@electron/get')).href)) as ElectronGet;
    const remoteChecksums =
      (env.electron_use_remote_checksums ?? env.npm_config_electron_use_remote_checksums ?? '') !== '';
    const mirror = env.ELECTRON_MIRROR ?? env.npm_config_electron_mirror;
    let last = '';
    await get.downloadArtifact({
      version,
      artifactName: 'electron',
      platform: env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform,
      arch: env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch,
      ...(env.electron_config_cache !== undefined && { cacheRoot: env.electron_config_cache }),
      // @electron/get reads the mirror from process.env itself; say it for an env passed in too.
      ...(mirror !== undefined && { mirrorOptions: { mirror } }),
      ...(remoteChecksums ? {} : { checksums: require('./checksums.json') }),
      downloadOptions: {
        quiet: true,
        getProgressCallback: (p: { transferred: number; total: number | null; percent: number }) => {
          const line = progressLine(version, p);
          if (line !== last) out(line, false);
          last = line;
        },
      },
    });
    if (last !== '') out(last, true);
    out(`Installing Electron ${version} (node_modules/electron/install.js)…`, true);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [join(dir, 'install.js')], { cwd: dir, env, stdio: 'inherit' });
      child.on('error', () => resolve(1));
      child.on('exit', (c) => resolve(c));
    });
    if (code !== 0) return { available: false, reason: `electron's install.js failed (exit code ${code}).` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return {
      available: false,
      reason: `Electron's binary is not installed and downloading Electron ${version} failed: ${message}${cause}.`,
    };
  }
  return findElectron(env, dir);
}
