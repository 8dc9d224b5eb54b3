import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The data dir holds private alarms and token hashes: only its owner may list or read it. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export interface Tightened {
  readonly path: string;
  readonly from: string;
  readonly to: string;
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(3, '0');

/**
 * Creates the data dir owner-only, and tightens an existing one and the files in it (SQLite database,
 * WAL, shared memory, lock) that a looser umask or an older version left readable by other users.
 * Returns what it changed so the caller can log it.
 */
export function secureDataDir(dir: string): Tightened[] {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  // Windows has ACLs, not mode bits (chmod only toggles read-only): the user profile dir protects it.
  if (process.platform === 'win32') return [];
  const changed: Tightened[] = [];
  const tighten = (path: string, wanted: number) => {
    const mode = statSync(path).mode & 0o777;
    if ((mode & ~wanted) === 0) return;
    chmodSync(path, mode & wanted);
    changed.push({ path, from: octal(mode), to: octal(mode & wanted) });
  };
  tighten(dir, DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.startsWith('tocsin.')) tighten(join(dir, entry.name), FILE_MODE);
  }
  return changed;
}

/**
 * Creates `path` empty with FILE_MODE if it does not exist yet. SQLite creates its WAL and shared
 * memory files with the database file's permissions, so creating the database 0600 first covers them.
 */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', FILE_MODE));
}
