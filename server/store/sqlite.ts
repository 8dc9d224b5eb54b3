import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Alarm, ScheduledAlarm, Scope } from '../../protocol/index.ts';
import { copyExtras } from './alarm-extras.ts';
import { createPrivateFile, secureDataDir } from './data-dir-mode.ts';
import type { StoreLog } from './redis.ts';
import { SqliteWriter } from './sqlite-writer.ts';
import {
  type AlarmListener,
  type AlarmStore,
  type CursorCheck,
  type NewAlarm,
  StoreError,
  type StoreHealth,
  type TokenRecord,
  type TokenStore,
  type Visibility,
} from './store.ts';
import { WriteHealth } from './write-health.ts';

export const DATABASE_FILE = 'tocsin.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- AUTOINCREMENT: ids are never reused, even after retention deletes the newest rows.
CREATE TABLE IF NOT EXISTS alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  user TEXT,
  topic TEXT,
  title TEXT NOT NULL,
  body TEXT,
  priority INTEGER NOT NULL,
  url TEXT,
  tags TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarms_by_user ON alarms (user, id) WHERE user IS NOT NULL;
CREATE INDEX IF NOT EXISTS alarms_by_topic ON alarms (topic, id) WHERE user IS NULL;
CREATE INDEX IF NOT EXISTS alarms_by_time ON alarms (time);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  user TEXT NOT NULL,
  scope TEXT NOT NULL,
  topics TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
-- Scheduled delivery: alarms waiting for their time, outside the log until then.
CREATE TABLE IF NOT EXISTS scheduled (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  deliver_at INTEGER NOT NULL,
  alarm TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS scheduled_by_time ON scheduled (deliver_at, id);
`;

/** Columns added after the first release, added in place to existing databases. */
const ADDED_COLUMNS: readonly [table: string, column: string, type: string][] = [
  // The ntfy fields (icon, markdown, actions, attachment) as one JSON object, null when none.
  ['alarms', 'extra', 'TEXT'],
  ['tokens', 'recipients', 'TEXT'],
];

interface AlarmRow {
  id: number;
  time: number;
  user: string | null;
  topic: string | null;
  title: string;
  body: string | null;
  priority: number;
  url: string | null;
  tags: string;
  extra: string | null;
}

interface TokenRow {
  id: string;
  secret_hash: Uint8Array;
  user: string;
  scope: string;
  topics: string | null;
  created_at: number;
  revoked_at: number | null;
  recipients: string | null;
}

interface ScheduledRow {
  id: number;
  created_at: number;
  deliver_at: number;
  alarm: string;
}

function rowToScheduled(row: ScheduledRow): ScheduledAlarm {
  return {
    ...(JSON.parse(row.alarm) as NewAlarm),
    id: `s${row.id}`,
    createdAt: row.created_at,
    deliverAt: row.deliver_at,
  };
}

function rowToAlarm(row: AlarmRow): Alarm {
  const alarm: Alarm = {
    id: String(row.id),
    time: row.time,
    title: row.title,
    priority: row.priority,
    tags: JSON.parse(row.tags) as string[],
  };
  if (row.user !== null) alarm.user = row.user;
  if (row.topic !== null) alarm.topic = row.topic;
  if (row.body !== null) alarm.body = row.body;
  if (row.url !== null) alarm.url = row.url;
  if (row.extra !== null) copyExtras(JSON.parse(row.extra) as Partial<NewAlarm>, alarm);
  return alarm;
}

function rowToToken(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    user: row.user,
    scope: row.scope as Scope,
    topics: row.topics === null ? null : (JSON.parse(row.topics) as string[]),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    secretHash: Buffer.from(row.secret_hash),
    ...(row.recipients !== null && { recipients: JSON.parse(row.recipients) as string[] }),
  };
}

interface Pending {
  alarm: NewAlarm;
  resolve: (alarm: Alarm) => void;
  reject: (error: unknown) => void;
}

export interface SqliteStoreOptions {
  dataDir: string;
  retention: { maxAgeMs: number; maxCount: number };
  now?: () => number;
  log?: StoreLog;
  /** How long a write waits for another process's lock (e.g. the `token` CLI) before it fails. */
  busyTimeoutMs?: number;
}

/** A write waiting this long for another process's lock makes the store report itself not ready. */
const LOCKED_UNHEALTHY_MS = 1_000;

/**
 * The embedded store: one SQLite file (node:sqlite, no native build) in WAL mode with synchronous=FULL,
 * so an acknowledged alarm survives a crash of the process and of the machine. Writes run on a writer
 * thread (sqlite-writer.ts): the event loop never waits for an fsync or a lock. Group commit: while
 * one transaction commits, the appends that arrive meanwhile gather into the next, so a burst costs
 * one fsync per round trip to the disk, not one per alarm. Reads use this thread's own connection
 * (WAL readers never wait for the writer).
 */
export class SqliteStore implements AlarmStore, TokenStore {
  readonly kind = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #retention: { maxAgeMs: number; maxCount: number };
  readonly #listeners = new Set<AlarmListener>();
  readonly #statements: {
    readUserAndTopics: StatementSync;
    readMeta: StatementSync;
    writeMeta: StatementSync;
    lastIssued: StatementSync;
    timeOf: StatementSync;
    revokedSince: StatementSync;
    newestBefore: StatementSync;
    tokenById: StatementSync;
  };
  readonly #storeId: string;
  readonly #writer: SqliteWriter;
  #pending: Pending[] = [];
  #flushScheduled = false;
  /** A batch is with the writer; the next one gathers until it is done. */
  #committing: Promise<void> | null = null;
  /** When the writer started waiting for another process's lock (performance.now()), if it is. */
  #lockedSince: number | null = null;
  #closed = false;
  /** From the first failed write until one succeeds: health reports it, the log says it once. */
  readonly #writes: WriteHealth;

  constructor(options: SqliteStoreOptions) {
    const databasePath = join(options.dataDir, DATABASE_FILE);
    // Owner-only: the files hold private alarms and token hashes. Created so before SQLite touches them.
    for (const { path, from, to } of secureDataDir(options.dataDir)) {
      options.log?.warn({ path, from, to }, 'tightened permissions: other users could read this');
    }
    createPrivateFile(databasePath);
    this.#now = options.now ?? Date.now;
    this.#retention = options.retention;
    this.#writes = new WriteHealth(options.log);
    try {
      // timeout: wait for another process's writer (the `token` CLI) instead of failing with SQLITE_BUSY.
      this.#db = new DatabaseSync(databasePath, { timeout: options.busyTimeoutMs ?? 5_000 });
      this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
      this.#db.exec(SCHEMA);
      this.#addColumns();
    } catch (error) {
      throw new StoreError(
        'corrupt',
        `cannot open the SQLite store in ${options.dataDir}: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    this.#statements = {
      // Two index range scans (user's alarms, then topic alarms) merged by id.
      readUserAndTopics: this.#db.prepare(
        `SELECT * FROM alarms WHERE id > :after AND user = :user
         UNION ALL
         SELECT * FROM alarms WHERE id > :after AND user IS NULL
           AND (:all = 1 OR topic IN (SELECT value FROM json_each(:topics)))
         ORDER BY id LIMIT :limit`,
      ),
      readMeta: this.#db.prepare('SELECT value FROM meta WHERE key = ?'),
      writeMeta: this.#db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      lastIssued: this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'alarms'"),
      timeOf: this.#db.prepare('SELECT time FROM alarms WHERE id = ?'),
      revokedSince: this.#db.prepare('SELECT id FROM tokens WHERE revoked_at >= ?'),
      newestBefore: this.#db.prepare('SELECT max(id) AS id FROM alarms WHERE time < ?'),
      // Looked up on every publish and stream open: compiled once.
      tokenById: this.#db.prepare('SELECT * FROM tokens WHERE id = ?'),
    };
    this.#storeId = this.#meta('store_id') ?? this.#initStoreId();
    this.#writer = new SqliteWriter({
      file: join(options.dataDir, DATABASE_FILE),
      busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      onLocked: () => {
        this.#lockedSince ??= performance.now();
      },
    });
  }

  #addColumns(): void {
    for (const [table, column, type] of ADDED_COLUMNS) {
      const columns = this.#db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!columns.some((c) => c.name === column)) {
        this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
    }
  }

  #meta(key: string): string | undefined {
    const row = this.#statements.readMeta.get(key) as { value: string } | undefined;
    return row?.value;
  }

  #initStoreId(): string {
    const id = randomUUID();
    this.#statements.writeMeta.run('store_id', id);
    return id;
  }

  storeId(): string {
    return this.#storeId;
  }

  append(alarm: NewAlarm): Promise<Alarm> {
    if (this.#closed) return Promise.reject(new StoreError('closed', 'the store is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ alarm, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#committing !== null || this.#pending.length === 0) return;
    this.#flushScheduled = true;
    // setImmediate lets every request already read in this loop turn join the same transaction.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends what gathered to the writer, unless a batch is already there (it sends the next when done). */
  #flush(): void {
    if (this.#committing !== null || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    const time = this.#now();
    this.#committing = this.#writer
      .call<number[]>({ op: 'append', time, alarms: JSON.stringify(batch.map((p) => p.alarm)) })
      .then(
        (ids) => {
          this.#lockedSince = null;
          this.#writes.succeeded();
          const stored = batch.map((p, i): Alarm => ({ ...p.alarm, id: String(ids[i]), time }));
          // Durable now: acknowledge, then fan out in id order.
          for (let i = 0; i < batch.length; i++) batch[i]?.resolve(stored[i] as Alarm);
          for (const alarm of stored) {
            for (const listener of this.#listeners) listener(alarm);
          }
        },
        (error: unknown) => {
          this.#writes.failed(error);
          const failure =
            error instanceof StoreError
              ? error
              : new StoreError('unavailable', `could not store alarms: ${String(error)}`, { cause: error });
          for (const p of batch) p.reject(failure);
        },
      )
      .finally(() => {
        this.#committing = null;
        // What arrived during the commit goes next (with what this loop turn still reads).
        this.#scheduleFlush();
      });
  }

  async read(after: string | null, who: Visibility, limit: number): Promise<Alarm[]> {
    this.#assertOpen();
    const rows = this.#statements.readUserAndTopics.all({
      after: after === null ? 0 : Number(after),
      user: who.user,
      topics: JSON.stringify(who.topics),
      all: who.allTopics === true ? 1 : 0,
      limit,
    }) as unknown as AlarmRow[];
    return rows.map(rowToAlarm);
  }

  async checkCursor(after: string, time?: number): Promise<CursorCheck> {
    this.#assertOpen();
    const id = Number(after);
    const last = this.#lastIssued();
    if (id > last) return { kind: 'unknown' };
    if (time !== undefined) {
      const row = this.#statements.timeOf.get(id) as { time: number } | undefined;
      // The same id with another time: this history was restored from an older copy and reissued it.
      if (row !== undefined && row.time !== time) return { kind: 'unknown' };
    }
    const prunedThrough = Number(this.#meta('pruned_through') ?? '0');
    if (id < prunedThrough) return { kind: 'pruned', through: String(prunedThrough) };
    return { kind: 'complete' };
  }

  #lastIssued(): number {
    return (this.#statements.lastIssued.get() as { seq: number } | undefined)?.seq ?? 0;
  }

  async cursorBefore(time: number): Promise<string | null> {
    this.#assertOpen();
    const row = this.#statements.newestBefore.get(time) as { id: number | null } | undefined;
    return row?.id == null ? null : String(row.id);
  }

  async newestId(): Promise<string | null> {
    this.#assertOpen();
    const last = this.#lastIssued();
    return last === 0 ? null : String(last);
  }

  parseId(raw: string): string | null {
    if (!/^[0-9]{1,15}$/.test(raw)) return null;
    return String(Number(raw));
  }

  compareIds(a: string, b: string): number {
    return Number(a) - Number(b);
  }

  subscribe(listener: AlarmListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async prune(now: number): Promise<number> {
    this.#assertOpen();
    return this.#writer.call<number>({
      op: 'prune',
      cutoffTime: now - this.#retention.maxAgeMs,
      maxCount: this.#retention.maxCount,
    });
  }

  async schedule(alarm: NewAlarm, deliverAt: number, now: number): Promise<ScheduledAlarm> {
    this.#assertOpen();
    try {
      const result = this.#db
        .prepare('INSERT INTO scheduled (created_at, deliver_at, alarm) VALUES (?, ?, ?)')
        .run(now, deliverAt, JSON.stringify(alarm));
      return { ...alarm, id: `s${result.lastInsertRowid}`, createdAt: now, deliverAt };
    } catch (error) {
      throw new StoreError('unavailable', `could not schedule the alarm: ${String(error)}`, { cause: error });
    }
  }

  async listScheduled(who: Visibility, limit: number): Promise<ScheduledAlarm[]> {
    this.#assertOpen();
    // The same visibility rule as read(): the user's own, else the topics asked for.
    const rows = this.#db
      .prepare(
        `SELECT * FROM scheduled WHERE
           json_extract(alarm, '$.user') = :user
           OR (json_extract(alarm, '$.user') IS NULL
               AND (:all = 1 OR json_extract(alarm, '$.topic') IN (SELECT value FROM json_each(:topics))))
         ORDER BY deliver_at, id LIMIT :limit`,
      )
      .all({
        user: who.user,
        all: who.allTopics === true ? 1 : 0,
        topics: JSON.stringify(who.topics),
        limit,
      }) as unknown as ScheduledRow[];
    return rows.map(rowToScheduled);
  }

  async releaseDue(now: number, limit: number): Promise<number> {
    this.#assertOpen();
    const rows = this.#db
      .prepare('SELECT * FROM scheduled WHERE deliver_at <= ? ORDER BY deliver_at, id LIMIT ?')
      .all(now, limit) as unknown as ScheduledRow[];
    if (rows.length === 0) return 0;
    const alarms = rows.map((row) => JSON.parse(row.alarm) as NewAlarm);
    const time = this.#now();
    // Through the writer, in order with appends, so that ids and the fan-out keep one order. The
    // writer moves each alarm from the schedule to the log in one transaction, and skips one that
    // another process released first: each goes out exactly once.
    const ids = await this.#writer.call<(number | null)[]>({
      op: 'release',
      time,
      scheduledIds: rows.map((row) => row.id),
      // Each alarm's JSON as the schedule holds it: the writer inserts it without parsing it again.
      alarms: rows.map((row) => row.alarm),
    });
    let released = 0;
    for (const [i, id] of ids.entries()) {
      if (id === null) continue;
      released++;
      const alarm: Alarm = { ...(alarms[i] as NewAlarm), id: String(id), time };
      for (const listener of this.#listeners) listener(alarm);
    }
    return released;
  }

  health(): StoreHealth {
    if (this.#closed) return { ready: false, reason: 'store closed' };
    // While writes fail, one small write (at most once a second) shows the recovery without traffic:
    // a load balancer may be sending the alarms elsewhere meanwhile.
    if (this.#writes.probeDue()) {
      try {
        this.#statements.writeMeta.run('write_probe', String(Date.now()));
        this.#writes.succeeded();
      } catch (error) {
        this.#writes.failed(error);
      }
    }
    const reason = this.#writes.reason;
    if (reason !== undefined) return { ready: false, reason };
    const failure = this.#writer.failure;
    if (failure !== undefined) return { ready: false, reason: failure.message };
    if (this.#lockedSince !== null && performance.now() - this.#lockedSince >= LOCKED_UNHEALTHY_MS) {
      return { ready: false, reason: 'the SQLite database is locked by another process; writes are waiting' };
    }
    return { ready: true };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Commit what was already accepted before closing.
    while (this.#committing !== null || this.#pending.length > 0) {
      this.#flush();
      await this.#committing;
    }
    await this.#writer.close();
    this.#listeners.clear();
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('closed', 'the store is closed');
  }

  // TokenStore

  async insert(record: TokenRecord): Promise<void> {
    this.#assertOpen();
    this.#db
      .prepare(
        'INSERT INTO tokens (id, secret_hash, user, scope, topics, created_at, revoked_at, recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.secretHash,
        record.user,
        record.scope,
        record.topics === null ? null : JSON.stringify(record.topics),
        record.createdAt,
        record.revokedAt,
        record.recipients === undefined || record.recipients === null
          ? null
          : JSON.stringify(record.recipients),
      );
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    this.#assertOpen();
    const row = this.#statements.tokenById.get(id) as TokenRow | undefined;
    return row === undefined ? undefined : rowToToken(row);
  }

  async list(): Promise<TokenRecord[]> {
    this.#assertOpen();
    const rows = this.#db
      .prepare('SELECT * FROM tokens ORDER BY created_at, id')
      .all() as unknown as TokenRow[];
    return rows.map(rowToToken);
  }

  async revokedSince(since: number): Promise<string[]> {
    this.#assertOpen();
    const rows = this.#statements.revokedSince.all(since) as { id: string }[];
    return rows.map((row) => row.id);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    this.#assertOpen();
    const result = this.#db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(at, id);
    return Number(result.changes) > 0;
  }

  async count(): Promise<number> {
    this.#assertOpen();
    const row = this.#db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number };
    return row.n;
  }
}
