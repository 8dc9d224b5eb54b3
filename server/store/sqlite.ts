import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Alarm, ScheduledAlarm, Scope } from '../../protocol/index.ts';
import { copyExtras, encodeExtras } from './alarm-extras.ts';
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

const DATABASE_FILE = 'tocsin.sqlite';

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
}

/**
 * The embedded store: one SQLite file (node:sqlite, no native build) in WAL mode with synchronous=FULL,
 * so an acknowledged alarm survives a crash of the process and of the machine. Appends that arrive
 * together are committed in one transaction (group commit): one fsync for a burst, not one per alarm.
 */
export class SqliteStore implements AlarmStore, TokenStore {
  readonly kind = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #retention: { maxAgeMs: number; maxCount: number };
  readonly #listeners = new Set<AlarmListener>();
  readonly #statements: {
    insert: StatementSync;
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
  #pending: Pending[] = [];
  #flushScheduled = false;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.#now = options.now ?? Date.now;
    this.#retention = options.retention;
    try {
      // timeout: wait for another process's writer (the `token` CLI) instead of failing with SQLITE_BUSY.
      this.#db = new DatabaseSync(join(options.dataDir, DATABASE_FILE), { timeout: 5_000 });
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
      insert: this.#db.prepare(
        'INSERT INTO alarms (time, user, topic, title, body, priority, url, tags, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
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
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // setImmediate lets every request already parsed in this loop turn join the same transaction.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    if (this.#closed) {
      for (const p of batch) p.reject(new StoreError('closed', 'the store is closed'));
      return;
    }
    const stored: Alarm[] = [];
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      const time = this.#now();
      for (const { alarm } of batch) {
        const result = this.#statements.insert.run(
          time,
          alarm.user ?? null,
          alarm.topic ?? null,
          alarm.title,
          alarm.body ?? null,
          alarm.priority,
          alarm.url ?? null,
          JSON.stringify(alarm.tags),
          encodeExtras(alarm),
        );
        stored.push({ ...alarm, id: String(result.lastInsertRowid), time });
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      const failure = new StoreError('unavailable', `could not store alarms: ${String(error)}`, {
        cause: error,
      });
      for (const p of batch) p.reject(failure);
      return;
    }
    // Durable now: acknowledge, then fan out in id order.
    for (let i = 0; i < batch.length; i++) batch[i]?.resolve(stored[i] as Alarm);
    for (const alarm of stored) {
      for (const listener of this.#listeners) listener(alarm);
    }
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
    const cutoffTime = now - this.#retention.maxAgeMs;
    // The newest id that falls outside the count limit (null when under the limit).
    const overCount = this.#db
      .prepare('SELECT id FROM alarms ORDER BY id DESC LIMIT 1 OFFSET ?')
      .get(this.#retention.maxCount) as { id: number } | undefined;
    const countCut = overCount?.id ?? 0;
    const highest = this.#db
      .prepare('SELECT max(id) AS id FROM alarms WHERE time < ? OR id <= ?')
      .get(cutoffTime, countCut) as { id: number | null };
    if (highest.id === null) return 0;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = this.#db
        .prepare('DELETE FROM alarms WHERE time < ? OR id <= ?')
        .run(cutoffTime, countCut);
      const previous = Number(this.#meta('pruned_through') ?? '0');
      this.#statements.writeMeta.run('pruned_through', String(Math.max(previous, highest.id)));
      this.#db.exec('COMMIT');
      return Number(result.changes);
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw new StoreError('unavailable', `retention failed: ${String(error)}`, { cause: error });
    }
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
    // Pending group-commit appends go first, so ids keep following acceptance order.
    this.#flush();
    const rows = this.#db
      .prepare('SELECT * FROM scheduled WHERE deliver_at <= ? ORDER BY deliver_at, id LIMIT ?')
      .all(now, limit) as unknown as ScheduledRow[];
    if (rows.length === 0) return 0;
    const stored: Alarm[] = [];
    const remove = this.#db.prepare('DELETE FROM scheduled WHERE id = ?');
    try {
      // One transaction: each alarm leaves the schedule exactly when it enters the log.
      this.#db.exec('BEGIN IMMEDIATE');
      const time = this.#now();
      for (const row of rows) {
        const alarm = JSON.parse(row.alarm) as NewAlarm;
        const result = this.#statements.insert.run(
          time,
          alarm.user ?? null,
          alarm.topic ?? null,
          alarm.title,
          alarm.body ?? null,
          alarm.priority,
          alarm.url ?? null,
          JSON.stringify(alarm.tags),
          encodeExtras(alarm),
        );
        remove.run(row.id);
        stored.push({ ...alarm, id: String(result.lastInsertRowid), time });
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw new StoreError('unavailable', `could not release scheduled alarms: ${String(error)}`, {
        cause: error,
      });
    }
    for (const alarm of stored) {
      for (const listener of this.#listeners) listener(alarm);
    }
    return stored.length;
  }

  health(): StoreHealth {
    return this.#closed ? { ready: false, reason: 'store closed' } : { ready: true };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Commit what was already accepted before closing.
    this.#flush();
    this.#closed = true;
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
