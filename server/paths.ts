import { join } from 'node:path';

/** The OS's per-user data location for Tocsin's server data (SQLite file). */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Tocsin', 'server');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Tocsin', 'server');
  const xdg = env.XDG_DATA_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(home, '.local', 'share'), 'tocsin', 'server');
}
