import type { Redis } from 'ioredis';
import { compareStreamIds } from './redis-ids.ts';

/** How long one XREAD blocks: short enough to notice a stop, long enough to cost nothing when idle. */
const TAIL_BLOCK_MS = 5_000;
const BATCH = 500;
const MAX_BACKOFF_MS = 2_000;
const WATCHDOG_GRACE_MS = 5_000;

export interface TailHooks {
  /**
   * One log entry, in id order, exactly once per tail (unless the log itself lost data, see resync).
   * Must not throw: a throw would be taken for a connection failure.
   */
  deliver(id: string, fields: string[]): void;
  /** The log's last-generated id, read on the tail's own connection. */
  lastGenerated(): Promise<string>;
  /** The connection failed (called once per outage). */
  onLost(error: unknown, cursor: string): void;
  onResumed(cursor: string): void;
  /** Redis holds fewer entries than were delivered: it lost acknowledged data (no or lax persistence). */
  onRewound(from: string, to: string): void;
}

/**
 * Follows the alarm log with a blocking XREAD on a dedicated connection (a blocked connection can do
 * nothing else) and hands every entry over in order. The cursor is the last id delivered, so after a
 * dropped connection or a Redis restart the tail resumes exactly there: entries appended meanwhile, by
 * any instance, are delivered late but never skipped or repeated.
 */
export class LogTail {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #hooks: TailHooks;
  #cursor: string;
  #stopped = false;
  #wake: (() => void) | null = null;
  readonly #done: Promise<void>;

  constructor(redis: Redis, key: string, from: string, hooks: TailHooks) {
    this.#redis = redis;
    this.#key = key;
    this.#cursor = from;
    this.#hooks = hooks;
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (failures > 0) await this.#resync();
        const reply = await this.#read();
        if (failures > 0) {
          failures = 0;
          this.#hooks.onResumed(this.#cursor);
        }
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            if (this.#stopped) return;
            this.#cursor = id;
            this.#hooks.deliver(id, fields);
          }
        }
      } catch (error) {
        if (this.#stopped) return;
        failures++;
        if (failures === 1) this.#hooks.onLost(error, this.#cursor);
        // ioredis reconnects in the background; poll gently until the connection is back.
        await this.#sleep(Math.min(100 * 2 ** (failures - 1), MAX_BACKOFF_MS));
      }
    }
  }

  /**
   * One blocking read. A connection that died silently (no FIN, no RST: a partition) would leave it
   * pending forever, so a read that outlives its BLOCK by far forces a reconnect. (Not ioredis's
   * socketTimeout: its timer outlives disconnect() and would hold the process open.)
   */
  async #read(): Promise<[string, [string, string[]][]][] | null> {
    const watchdog = setTimeout(() => {
      if (!this.#stopped) this.#redis.disconnect(true);
    }, TAIL_BLOCK_MS + WATCHDOG_GRACE_MS);
    watchdog.unref();
    try {
      return (await this.#redis.xread(
        'COUNT',
        BATCH,
        'BLOCK',
        TAIL_BLOCK_MS,
        'STREAMS',
        this.#key,
        this.#cursor,
      )) as [string, [string, string[]][]][] | null;
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** After an outage: a log that now ends before the cursor lost data; resume from where it ends. */
  async #resync(): Promise<void> {
    const last = await this.#hooks.lastGenerated();
    if (compareStreamIds(last, this.#cursor) < 0) {
      this.#hooks.onRewound(this.#cursor, last);
      this.#cursor = last;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Stops following and closes the tail's connection (which ends a pending XREAD). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#redis.disconnect();
    await this.#done;
  }
}
