import { Worker } from 'node:worker_threads';
import { StoreError } from './store.ts';

export type WriterRequest =
  /** alarms: JSON of NewAlarm[]; SQLite takes the columns apart itself (see writerMain). */
  | { op: 'append'; time: number; alarms: string }
  | { op: 'prune'; cutoffTime: number; maxCount: number }
  /**
   * Scheduled alarms due now: each leaves `scheduled` and enters `alarms` in one transaction.
   * alarms: each one's JSON (a NewAlarm), in the order of scheduledIds.
   */
  | { op: 'release'; time: number; scheduledIds: number[]; alarms: string[] }
  | { op: 'close' };

type WriterReply =
  | { kind: 'reply'; seq: number; ok: true; value: unknown }
  | { kind: 'reply'; seq: number; ok: false; message: string; locked: boolean }
  /** The writer found the database locked by another connection and is waiting for it. */
  | { kind: 'locked'; seq: number };

export interface WriterOptions {
  file: string;
  /** How long a write waits for another process's lock before it fails. */
  busyTimeoutMs: number;
  /** Called when a write starts waiting for another process's lock. */
  onLocked: () => void;
}

/**
 * The body of the writer thread. Self-contained (it runs from its own source text, see SqliteWriter),
 * so it reaches Node's modules through process.getBuiltinModule and captures nothing.
 */
function writerMain(): void {
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
  const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
  const port = parentPort as NonNullable<typeof parentPort>;
  // No SQLite busy handler: this thread waits for locks itself, so it can tell the server it is waiting.
  const db = new DatabaseSync(file, { timeout: 0 });
  // synchronous is per connection: FULL here too, so a commit is on disk before its alarms are acked.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
  // A batch as one JSON array of NewAlarm, taken apart by SQLite in C: one statement per batch, not
  // one JSON.parse and one bound insert per alarm. Rows go in array order, so their ids are
  // consecutive and end at the last insert's rowid. `extra`: the ntfy fields, whatever is left of the
  // alarm once its columns are removed (null when nothing is).
  const insert = db.prepare(
    `INSERT INTO alarms (time, user, topic, title, body, priority, url, tags, extra)
     SELECT :time, a ->> '$.user', a ->> '$.topic', a ->> '$.title', a ->> '$.body', a ->> '$.priority',
       a ->> '$.url', a -> '$.tags',
       nullif(json_remove(a, '$.user', '$.topic', '$.title', '$.body', '$.priority', '$.url', '$.tags'), '{}')
     FROM (SELECT value AS a FROM json_each(:alarms) ORDER BY key)`,
  );
  const insertAll = (time: number, alarms: string): number[] => {
    const { changes, lastInsertRowid } = insert.run({ time, alarms });
    const last = Number(lastInsertRowid);
    const count = Number(changes);
    return Array.from({ length: count }, (_, i) => last - count + 1 + i);
  };
  const unschedule = db.prepare('DELETE FROM scheduled WHERE id = ?');
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const SQLITE_BUSY = 5;
  const isBusy = (error: unknown) => ((error as { errcode?: number }).errcode ?? 0) % 256 === SQLITE_BUSY;

  const begin = (seq: number) => {
    const started = Date.now();
    let told = false;
    for (;;) {
      try {
        db.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (!told) {
          told = true;
          port.postMessage({ kind: 'locked', seq });
        }
        if (Date.now() - started >= busyTimeoutMs)
          throw Object.assign(new Error('database is locked'), { locked: true });
        Atomics.wait(nap, 0, 0, 10);
      }
    }
  };
  const inTransaction = <T>(seq: number, body: () => T): T => {
    begin(seq);
    try {
      const result = body();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
  const meta = (key: string) =>
    (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;

  const handlers = {
    append(seq: number, request: { time: number; alarms: string }): number[] {
      return inTransaction(seq, () => insertAll(request.time, request.alarms));
    },
    release(
      seq: number,
      request: { time: number; scheduledIds: number[]; alarms: string[] },
    ): (number | null)[] {
      return inTransaction(seq, () =>
        request.scheduledIds.map((scheduledId, i) => {
          // Released by another process meanwhile: its row is gone, and so is this alarm's turn.
          if (Number(unschedule.run(scheduledId).changes) === 0) return null;
          return insertAll(request.time, `[${request.alarms[i]}]`)[0] ?? null;
        }),
      );
    },
    prune(seq: number, request: { cutoffTime: number; maxCount: number }): number {
      // The newest id that falls outside the count limit (none when under the limit).
      const overCount = db
        .prepare('SELECT id FROM alarms ORDER BY id DESC LIMIT 1 OFFSET ?')
        .get(request.maxCount) as { id: number } | undefined;
      const countCut = overCount?.id ?? 0;
      const highest = db
        .prepare('SELECT max(id) AS id FROM alarms WHERE time < ? OR id <= ?')
        .get(request.cutoffTime, countCut) as { id: number | null };
      if (highest.id === null) return 0;
      const newest = highest.id;
      return inTransaction(seq, () => {
        const result = db
          .prepare('DELETE FROM alarms WHERE time < ? OR id <= ?')
          .run(request.cutoffTime, countCut);
        const previous = Number(meta('pruned_through') ?? '0');
        db.prepare(
          'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        ).run('pruned_through', String(Math.max(previous, newest)));
        return Number(result.changes);
      });
    },
  };

  port.on('message', (message: { seq: number; request: { op: string } & Record<string, unknown> }) => {
    const { seq, request } = message;
    try {
      let value: unknown = null;
      if (request.op === 'append') value = handlers.append(seq, request as never);
      else if (request.op === 'prune') value = handlers.prune(seq, request as never);
      else if (request.op === 'release') value = handlers.release(seq, request as never);
      else if (request.op === 'close') db.close();
      port.postMessage({ kind: 'reply', seq, ok: true, value });
    } catch (error) {
      const locked = (error as { locked?: boolean }).locked === true || isBusy(error);
      port.postMessage({ kind: 'reply', seq, ok: false, message: String(error), locked });
    }
  });
}

/**
 * The SQLite store's writer: a worker thread with its own connection that runs every write
 * transaction (appends, retention), so neither an fsync nor another process's lock ever holds up the
 * event loop. Requests are answered in order. The thread starts on the first write (token commands
 * never need it) and holds the process open only while a request is pending.
 */
export class SqliteWriter {
  readonly #options: WriterOptions;
  #worker: Worker | undefined;
  #failure: StoreError | undefined;
  #seq = 0;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: unknown) => void }
  >();

  constructor(options: WriterOptions) {
    this.#options = options;
  }

  /** Why the writer cannot work (it failed to start or died), if it cannot. */
  get failure(): StoreError | undefined {
    return this.#failure;
  }

  #start(): Worker {
    // From its source text (eval), not a file: the desktop app bundles the server into one file.
    const worker = new Worker(`(${writerMain.toString()})()`, {
      eval: true,
      workerData: { file: this.#options.file, busyTimeoutMs: this.#options.busyTimeoutMs },
    });
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      if (reply.kind === 'locked') {
        this.#options.onLocked();
        return;
      }
      const pending = this.#pending.get(reply.seq);
      if (pending === undefined) return;
      this.#pending.delete(reply.seq);
      if (this.#pending.size === 0) worker.unref();
      if (reply.ok) pending.resolve(reply.value);
      else
        pending.reject(
          new StoreError(
            'unavailable',
            reply.locked
              ? `the SQLite database stayed locked by another process for ${this.#options.busyTimeoutMs} ms`
              : `SQLite write failed: ${reply.message}`,
          ),
        );
    });
    const die = (error: unknown) => {
      this.#failure = new StoreError('unavailable', `the SQLite writer thread stopped: ${String(error)}`, {
        cause: error,
      });
      this.#worker = undefined;
      for (const { reject } of this.#pending.values()) reject(this.#failure);
      this.#pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => {
      if (this.#worker === worker) die(new Error(`exit code ${code}`));
    });
    return worker;
  }

  call<T>(request: WriterRequest): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#worker ??= this.#start();
    const worker = this.#worker;
    const seq = ++this.#seq;
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ seq, request });
    });
  }

  /** Finishes what was asked, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    await this.call({ op: 'close' }).catch(() => {});
    this.#worker = undefined;
    await worker.terminate();
  }
}
