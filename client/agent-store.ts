import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Alarm, AlarmId } from '../protocol/index.ts';

/** Where the agent stands in a server's alarm sequence. */
export interface Position {
  /** The last alarm received. */
  readonly id: string;
  /**
   * Its `time`: sent with the id, so the server can tell a reissued id (a restored backup). Null when
   * the position came from `ready` rather than from an alarm (nothing received yet).
   */
  readonly time: number | null;
  /** The server store the id belongs to. */
  readonly storeId: string | null;
}

/** Ids are reused after a rollback: an alarm is the same alarm only if id and time both match. */
export function alarmKey(alarm: Pick<Alarm, 'id' | 'time'>): string {
  return `${alarm.id}@${alarm.time}`;
}

export type AgentStoreProblemCode = 'cursor-corrupt' | 'state-damaged' | 'state-unwritable';

export interface AgentStoreProblem {
  readonly code: AgentStoreProblemCode;
  readonly message: string;
}

export interface LoadedAgentState {
  /** null: nothing received yet (or the stored position was unusable: see `problem`). */
  readonly position: Position | null;
  /** Keys (`alarmKey`) of the alarms received most recently, oldest first: the de-duplication seed. */
  readonly seen: readonly string[];
  /** Alarms recorded but never shown (the process died in between), oldest first. */
  readonly unshown: readonly Alarm[];
  readonly problem?: AgentStoreProblem;
}

export class AgentStoreError extends Error {
  readonly code: 'write-failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentStoreError';
    this.code = 'write-failed';
  }
}

/**
 * The agent's durable state: its position, the recent alarms (history, de-duplication) and which of
 * them were shown. Synchronous on purpose: an alarm is recorded before anything shows it, with no
 * window in which a crash could lose the record but not the display.
 */
export interface AgentStore {
  load(): LoadedAgentState;
  /** A new alarm: recorded (unshown) and made the position, in one atomic, durable write. */
  record(alarm: Alarm, storeId: string | null): void;
  /** Several new alarms (one chunk of a replay) and the position after them, in one write. */
  recordBatch(alarms: readonly Alarm[], position: Position): void;
  /** An alarm already recorded (a duplicate in a replay): only the position moves. */
  advance(alarm: Alarm, storeId: string | null): void;
  /**
   * The position moves without a new alarm (the server's cursor at `ready`, a chunk of duplicates).
   * `durable: false` skips the fsync (a lost move costs a duplicate that is skipped anyway).
   */
  setPosition(position: Position, durable?: boolean): void;
  /** It was handed to the user (printed, notified). */
  markShown(alarm: Alarm): void;
  /** The position means nothing any more (the server's history was rolled back): forget it, keep history. */
  forgetPosition(): void;
  /** The history, newest first. */
  history(limit?: number): Alarm[];
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS position (
  k INTEGER PRIMARY KEY CHECK (k = 1),
  id TEXT NOT NULL,
  time INTEGER,
  store_id TEXT
);
CREATE TABLE IF NOT EXISTS alarms (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  json TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  shown INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alarms_unshown ON alarms (shown) WHERE shown = 0;
`;

export interface SqliteAgentStoreOptions {
  /** How many alarms history keeps (and de-duplication remembers). */
  readonly historyLimit?: number;
  /** Wall clock for `received_at`. */
  readonly now?: () => number;
  /** How long a write waits for a lock held by another process before it fails. */
  readonly busyTimeoutMs?: number;
}

/**
 * One small SQLite file (node:sqlite, WAL, synchronous=FULL): cursor and history change in one
 * transaction, so a crash or power loss at any instant leaves both as they were or both updated,
 * and never a temporary file. ':memory:' keeps it for the process only.
 */
export class SqliteAgentStore implements AgentStore {
  readonly #db: DatabaseSync;
  readonly #limit: number;
  readonly #now: () => number;
  readonly #openProblem: AgentStoreProblem | undefined;
  readonly #insert: StatementSync;
  readonly #setPosition: StatementSync;
  readonly #shown: StatementSync;
  readonly #trim: StatementSync;
  #sinceTrim = 0;
  #synchronous: 'FULL' | 'NORMAL' = 'FULL';

  constructor(path: string, options: SqliteAgentStoreOptions = {}) {
    this.#limit = options.historyLimit ?? 2_000;
    this.#now = options.now ?? Date.now;
    const opened = openDatabase(path, options.busyTimeoutMs ?? 5_000);
    this.#db = opened.db;
    this.#openProblem = opened.problem;
    this.#insert = this.#db.prepare(
      'INSERT OR IGNORE INTO alarms (key, json, received_at, shown) VALUES (?, ?, ?, 0)',
    );
    this.#setPosition = this.#db.prepare(
      'INSERT INTO position (k, id, time, store_id) VALUES (1, ?, ?, ?) ON CONFLICT (k) DO UPDATE SET id = excluded.id, time = excluded.time, store_id = excluded.store_id',
    );
    this.#shown = this.#db.prepare('UPDATE alarms SET shown = 1 WHERE key = ?');
    this.#trim = this.#db.prepare('DELETE FROM alarms WHERE seq <= (SELECT MAX(seq) FROM alarms) - ?');
  }

  load(): LoadedAgentState {
    const seen = (
      this.#db.prepare('SELECT key FROM alarms ORDER BY seq DESC LIMIT ?').all(this.#limit) as {
        key: string;
      }[]
    )
      .map((row) => row.key)
      .reverse();
    const unshown: Alarm[] = [];
    for (const row of this.#db.prepare('SELECT json FROM alarms WHERE shown = 0 ORDER BY seq').all() as {
      json: string;
    }[]) {
      const parsed = safeAlarm(row.json);
      if (parsed !== null) unshown.push(parsed);
    }
    const row = this.#db.prepare('SELECT id, time, store_id FROM position WHERE k = 1').get() as
      | { id: unknown; time: unknown; store_id: unknown }
      | undefined;
    let position: Position | null = null;
    let problem = this.#openProblem;
    if (row !== undefined) {
      const valid =
        AlarmId.safeParse(row.id).success &&
        (row.time === null || (typeof row.time === 'number' && Number.isSafeInteger(row.time))) &&
        (row.store_id === null || (typeof row.store_id === 'string' && row.store_id !== ''));
      if (valid) {
        position = {
          id: row.id as string,
          time: row.time as number | null,
          storeId: row.store_id as string | null,
        };
      } else {
        // Resume from the newest alarm in history instead: what was shown stays de-duplicated.
        const newest = this.history(1)[0];
        position = newest === undefined ? null : { id: newest.id, time: newest.time, storeId: null };
        problem ??= {
          code: 'cursor-corrupt',
          message: `the saved cursor was damaged; resuming after the newest of the ${seen.length} alarms in history, which are not shown again`,
        };
      }
    }
    return { position, seen, unshown, ...(problem === undefined ? {} : { problem }) };
  }

  record(alarm: Alarm, storeId: string | null): void {
    this.recordBatch([alarm], { id: alarm.id, time: alarm.time, storeId });
  }

  recordBatch(alarms: readonly Alarm[], position: Position): void {
    this.#write(() => {
      const now = this.#now();
      for (const alarm of alarms) this.#insert.run(alarmKey(alarm), JSON.stringify(alarm), now);
      this.#setPosition.run(position.id, position.time, position.storeId);
      this.#sinceTrim += alarms.length;
      if (this.#sinceTrim >= 100) {
        this.#sinceTrim = 0;
        this.#trim.run(this.#limit);
      }
    });
  }

  advance(alarm: Alarm, storeId: string | null): void {
    // A duplicate's position lost to a power cut costs one more duplicate, which is skipped: no fsync.
    this.#write(() => {
      this.#setPosition.run(alarm.id, alarm.time, storeId);
    }, 'NORMAL');
  }

  setPosition(position: Position, durable = true): void {
    this.#write(
      () => {
        this.#setPosition.run(position.id, position.time, position.storeId);
      },
      durable ? 'FULL' : 'NORMAL',
    );
  }

  markShown(alarm: Alarm): void {
    // Without an fsync of its own: a process crash keeps it (WAL), and the next record's fsync makes
    // it durable, so a power cut can only lose the marks of the chunk being shown.
    this.#write(() => {
      this.#shown.run(alarmKey(alarm));
    }, 'NORMAL');
  }

  forgetPosition(): void {
    this.#write(() => {
      this.#db.exec('DELETE FROM position');
    });
  }

  history(limit = this.#limit): Alarm[] {
    const rows = this.#db.prepare('SELECT json FROM alarms ORDER BY seq DESC LIMIT ?').all(limit) as {
      json: string;
    }[];
    return rows.map((row) => safeAlarm(row.json)).filter((a): a is Alarm => a !== null);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #write(work: () => void, synchronous: 'FULL' | 'NORMAL' = 'FULL'): void {
    try {
      if (this.#synchronous !== synchronous) {
        this.#db.exec(`PRAGMA synchronous = ${synchronous}`);
        this.#synchronous = synchronous;
      }
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        work();
        this.#db.exec('COMMIT');
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } catch (error) {
      throw new AgentStoreError(`could not save the agent's state (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
}

function safeAlarm(json: string): Alarm | null {
  try {
    const parsed = Alarm.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function tryOpen(path: string, timeout: number): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(path, { timeout });
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    db.exec(SCHEMA);
    const check = db.prepare('PRAGMA quick_check').get() as Record<string, unknown> | undefined;
    if (check !== undefined && Object.values(check)[0] !== 'ok') throw new Error('quick_check failed');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens the state file. Damaged: it is moved aside (kept for inspection) and a new one started.
 * Unusable (a read-only dir): the state lives in memory for this run. Either way one problem says so.
 */
function openDatabase(path: string, timeout: number): { db: DatabaseSync; problem?: AgentStoreProblem } {
  try {
    return { db: tryOpen(path, timeout) };
  } catch (error) {
    const message = (error as Error).message;
    const code = (error as { errcode?: unknown }).errcode;
    // SQLITE_CORRUPT (11) and SQLITE_NOTADB (26): the file is not a usable database.
    if (
      path !== ':memory:' &&
      (code === 11 || code === 26 || /quick_check|not a database|malformed/.test(message))
    ) {
      const aside = `${path}.damaged-${Date.now()}`;
      try {
        renameSync(path, aside);
        return {
          db: tryOpen(path, timeout),
          problem: {
            code: 'state-damaged',
            message: `the agent's state file was damaged (moved to ${aside}); starting afresh`,
          },
        };
      } catch {
        // fall through to memory
      }
    }
    return {
      db: tryOpen(':memory:', timeout),
      problem: {
        code: 'state-unwritable',
        message: `cannot use the state file ${path} (${message}); this run keeps its cursor in memory only, so a restart may show some alarms again`,
      },
    };
  }
}

/**
 * Carries the cursor of an older version (one JSON file per server, `{ id, storeId }`) into a store
 * that has no position yet, then removes the file, so an upgrade neither replays a day of history
 * nor skips what arrived meanwhile. Returns whether one was imported. Anything unreadable is ignored.
 */
export function importLegacyCursor(store: AgentStore, path: string, server?: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
  const { id, storeId, server: from } = (json ?? {}) as { id?: unknown; storeId?: unknown; server?: unknown };
  // The desktop app kept one cursor file for whichever server it used last.
  if (server !== undefined && from !== server) return false;
  const loaded = store.load();
  const usable = AlarmId.safeParse(id).success && loaded.position === null && loaded.seen.length === 0;
  if (usable) {
    store.setPosition({
      id: id as string,
      time: null,
      storeId: typeof storeId === 'string' && storeId !== '' ? storeId : null,
    });
  }
  rmSync(path, { force: true });
  return usable;
}
