import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createPrivateFile, FILE_MODE } from './data-dir-mode.ts';

export const LOCK_FILE = 'tocsin.lock';
/** Who holds the lock, for the refusal message; removed on a clean shutdown. */
export const PID_FILE = 'tocsin.pid';
const SQLITE_BUSY = 5;

export type DataDirLockErrorCode = 'data-dir-locked';

export class DataDirLockError extends Error {
  readonly code: DataDirLockErrorCode = 'data-dir-locked';
  readonly holderPid: number | undefined;
  constructor(dataDir: string, holderPid: number | undefined) {
    super(
      `another tocsin-server${holderPid === undefined ? '' : ` (pid ${holderPid})`} is using the data dir ${dataDir}; ` +
        'two servers on one SQLite data dir would lose alarms. Stop it, or give this one another --data-dir ' +
        '(several instances share alarms only through --redis-url). Token commands work alongside it.',
    );
    this.name = 'DataDirLockError';
    this.holderPid = holderPid;
  }
}

export interface DataDirLock {
  /** Set when the previous holder (pid) died without releasing: a crash or kill -9. */
  readonly staleFrom: number | undefined;
  release(): void;
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on a SQLite data dir for the server's life. It is an OS file lock (SQLite's own
 * write lock on a dedicated file, held open): the kernel drops it when the process dies however it
 * dies, so a crash or kill -9 never leaves a stale lock behind, and a reused pid cannot fake one.
 * The `token` commands do not take it: they only write tokens, which SQLite serialises itself.
 */
export function lockDataDir(dataDir: string, pid: number = process.pid): DataDirLock {
  const lockPath = join(dataDir, LOCK_FILE);
  const pidPath = join(dataDir, PID_FILE);
  createPrivateFile(lockPath);
  const db = new DatabaseSync(lockPath);
  try {
    db.exec('PRAGMA journal_mode = DELETE');
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    db.close();
    if ((error as { errcode?: number }).errcode === SQLITE_BUSY) {
      throw new DataDirLockError(dataDir, readPid(pidPath));
    }
    throw error;
  }
  const previous = readPid(pidPath);
  writeFileSync(pidPath, `${pid}\n`, { mode: FILE_MODE });
  let released = false;
  return {
    staleFrom: previous,
    release() {
      if (released) return;
      released = true;
      rmSync(pidPath, { force: true });
      db.close();
    },
  };
}
