import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Alarm, ScheduledAlarm } from '../../protocol/index.ts';
import { decodeAlarm, decodeToken, encodeAlarm, encodeToken } from './redis-codec.ts';
import { compareStreamIds, parseStreamId, streamIdTime } from './redis-ids.ts';
import { SCRIPTS, type ScriptName } from './redis-scripts.ts';
import { LogTail } from './redis-tail.ts';
import { watchForSilence } from './silence-deadline.ts';
import {
  type AlarmListener,
  type AlarmStore,
  type CursorCheck,
  isVisible,
  type NewAlarm,
  StoreError,
  type StoreHealth,
  type TokenRecord,
  type TokenStore,
  type Visibility,
} from './store.ts';
import { WriteHealth } from './write-health.ts';

/** What the store reports about its connection (pino's logger fits). */
export interface StoreLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

interface PendingAppend {
  alarm: NewAlarm;
  resolve: (alarm: Alarm) => void;
  reject: (error: unknown) => void;
}

const silent: StoreLog = { info() {}, warn() {}, error() {} };

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (the database number selects the logical database). */
  url: string;
  retention: { maxAgeMs: number; maxCount: number };
  /**
   * Clock for alarm ids and times. Default: the Redis server's clock, one clock for every instance.
   * Tests inject one; ids then still never go backwards.
   */
  now?: () => number;
  /** Namespace of every key (default `tocsin:`), so several deployments can share one database. */
  keyPrefix?: string;
  log?: StoreLog;
  /** An operation Redis has not answered within this is a Redis that stopped answering (default 5 s). */
  commandDeadlineMs?: number;
}

/** Retention removes at most this many alarms per Lua call, so Redis never blocks long. */
const PRUNE_CHUNK = 1_000;
const COMMAND_DEADLINE_MS = 5_000;
const U64_MAX = '18446744073709551615';

function keysFor(prefix: string) {
  return {
    /** The alarm log: one stream, every alarm, in id order: replay source and fan-out feed. */
    log: `${prefix}alarms`,
    /** Per-audience indexes (ids only) so a read touches only what its reader may see. */
    userIndex: (user: string) => `${prefix}alarms:user:${user}`,
    topicIndex: (topic: string) => `${prefix}alarms:topic:${topic}`,
    /** Every topic alarm (not addressed to a user), for `?topics=*` readers. */
    allTopicsIndex: `${prefix}alarms:all-topics`,
    /** Every index key, kept by earlier versions (retention scanned it); now only emptied. */
    legacyIndexes: `${prefix}alarm-indexes`,
    userIndexPrefix: `${prefix}alarms:user:`,
    topicIndexPrefix: `${prefix}alarms:topic:`,
    /** The newest id retention removed: a cursor below it may have missed alarms. */
    prunedThrough: `${prefix}pruned-through`,
    storeId: `${prefix}store-id`,
    /** Scheduled alarms: id → JSON, the ids by delivery time, and the id counter. */
    scheduled: `${prefix}scheduled`,
    scheduledDue: `${prefix}scheduled:due`,
    scheduledSeq: `${prefix}scheduled:seq`,
    origin: `${prefix}origin`,
    /** Written by health checks while Redis refuses writes, to notice when it accepts them again. */
    writeProbe: `${prefix}write-probe`,
    token: (id: string) => `${prefix}token:${id}`,
    tokens: `${prefix}tokens`,
    /** Revoked token ids scored by revocation time, so instances learn of revocations by polling one key. */
    revocations: `${prefix}revocations`,
  };
}

function connect(url: string, name: string, extra: RedisOptions): Redis {
  return new Redis(url, {
    connectionName: name,
    // Fail fast rather than queue: a publisher gets a 503 now, never a late 201 (or a lost alarm).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command in flight when the connection dropped may or may not have run: re-sending an XADD
    // blindly could store an alarm twice, so it fails instead and the publisher decides.
    autoResendUnfulfilledCommands: false,
    connectTimeout: 3_000,
    // How long a closing connection may linger before it is destroyed (the default 2 s delays exits).
    disconnectTimeout: 500,
    // Reconnect forever, backing off to 2 s, with jitter so instances do not reconnect in lockstep.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000) + Math.floor(Math.random() * 100),
    scripts: SCRIPTS,
    ...extra,
  });
}

/**
 * The scale-out store: several Tocsin instances share one Redis, hence one history and one fan-out.
 * Alarms go to one stream (`tocsin:alarms`) whose ids are the SSE ids; every instance tails it with a
 * blocking XREAD and broadcasts what it reads to its own streams. Reads for a subscriber merge its
 * user's and topics' index streams. See docs/scale-out.md, "How it works, and why this design".
 */
export class RedisStore implements AlarmStore, TokenStore {
  readonly kind = 'redis';
  readonly #redis: Redis;
  readonly #tailConnection: Redis;
  readonly #keys: ReturnType<typeof keysFor>;
  readonly #retention: { maxAgeMs: number; maxCount: number };
  readonly #now: (() => number) | undefined;
  readonly #log: StoreLog;
  readonly #deadlineMs: number;
  /** host:port for messages (never the URL: it may carry a password). */
  readonly #address: string;
  readonly #listeners = new Set<AlarmListener>();
  /** Appends of this event-loop turn, sent together (see #appendBatch). */
  #appends: PendingAppend[] = [];
  #tail: LogTail | undefined;
  #storeId: string | undefined;
  #started = false;
  #connectionLost = false;
  #closed = false;
  #persistenceChecked = false;
  /** Redis answering writes with an error (out of memory, MISCONF, READONLY): health reports it. */
  readonly #writes: WriteHealth;
  /** Settles once the first connection attempt succeeded or failed. */
  readonly #firstAttempt: Promise<void>;
  #settleFirstAttempt: () => void = () => {};

  constructor(options: RedisStoreOptions) {
    this.#keys = keysFor(options.keyPrefix ?? 'tocsin:');
    this.#retention = options.retention;
    this.#now = options.now;
    this.#log = options.log ?? silent;
    this.#deadlineMs = options.commandDeadlineMs ?? COMMAND_DEADLINE_MS;
    this.#writes = new WriteHealth(this.#log);
    this.#address = new URL(options.url).host;
    this.#firstAttempt = new Promise((resolve) => {
      this.#settleFirstAttempt = resolve;
    });
    // Commands issued in the same tick share one write (Redis then fsyncs them together, too).
    this.#redis = connect(options.url, 'tocsin', { enableAutoPipelining: true });
    this.#tailConnection = connect(options.url, 'tocsin-fanout', {});
    this.#redis.on('ready', () => void this.#onReady());
    this.#redis.on('close', () => {
      this.#settleFirstAttempt();
      if (this.#started && !this.#closed && !this.#connectionLost) {
        this.#connectionLost = true;
        this.#log.warn({}, 'lost the connection to Redis; publishing is refused until it is back');
      }
    });
    // ioredis reports every failed reconnect as an 'error'; the state changes above are what matters.
    this.#redis.on('error', () => {});
    this.#tailConnection.on('error', () => {});
  }

  /** Each (re)connection: read (or create) the store id, and start the fan-out tail the first time. */
  async #onReady(): Promise<void> {
    try {
      const created = randomUUID();
      const existing = (await this.#redis.call('SET', this.#keys.storeId, created, 'NX', 'GET')) as
        | string
        | null;
      const storeId = existing ?? created;
      if (this.#storeId !== undefined && storeId !== this.#storeId) {
        this.#log.warn(
          { previous: this.#storeId, storeId },
          'the Redis data was reset: clients will be told their cursors are unknown',
        );
      }
      this.#storeId = storeId;
      if (this.#tail === undefined) {
        // Start after the log's current end: listeners see every alarm appended from now on.
        const [from] = await this.#script(this.#redis, 'tocsinCursor', [
          this.#keys.log,
          this.#keys.prunedThrough,
          this.#keys.origin,
        ]);
        if (this.#closed) return; // closed meanwhile: its tail connection is gone already
        this.#tail = new LogTail(this.#tailConnection, this.#keys.log, from as string, {
          deliver: (id, fields) => this.#deliver(id, fields),
          lastGenerated: async () =>
            (
              await this.#script(this.#tailConnection, 'tocsinCursor', [
                this.#keys.log,
                this.#keys.prunedThrough,
                this.#keys.origin,
              ])
            )[0] as string,
          onLost: (error, cursor) => {
            if (!this.#closed)
              this.#log.warn(
                { err: error, cursor },
                'fan-out from Redis interrupted; resuming from the cursor',
              );
          },
          onResumed: (cursor) => this.#log.info({ cursor }, 'fan-out from Redis resumed'),
          onRewound: (from, to) =>
            this.#log.error(
              { from, to },
              'Redis lost acknowledged alarms (its log ends before what was delivered); check its persistence (appendonly yes, appendfsync always)',
            ),
        });
      }
      if (this.#connectionLost) this.#log.info({}, 'reconnected to Redis');
      this.#connectionLost = false;
      this.#started = true;
      this.#settleFirstAttempt();
      if (!this.#persistenceChecked) {
        this.#persistenceChecked = true;
        await this.#checkPersistence();
      }
    } catch (error) {
      this.#settleFirstAttempt();
      if (this.#closed) return;
      this.#log.warn({ err: error }, 'could not initialise the Redis store; retrying');
      if (this.#redis.status === 'ready') setTimeout(() => void this.#onReady(), 1_000).unref();
    }
  }

  /** Durability is Redis's: say so at startup when it is weaker than an acknowledged alarm deserves. */
  async #checkPersistence(): Promise<void> {
    let aof: unknown;
    let fsync: unknown;
    try {
      aof = ((await this.#redis.config('GET', 'appendonly')) as string[])[1];
      fsync = ((await this.#redis.config('GET', 'appendfsync')) as string[])[1];
    } catch {
      return; // CONFIG is often disabled on managed Redis; nothing to check then.
    }
    if (aof !== 'yes') {
      this.#log.warn(
        { appendonly: aof },
        'Redis runs without AOF: acknowledged alarms since its last snapshot are lost if it crashes (use appendonly yes)',
      );
    } else if (fsync !== 'always') {
      this.#log.info(
        { appendfsync: fsync },
        'Redis fsyncs its AOF at most every second: a crash of the Redis host may lose the last second of acknowledged alarms',
      );
    }
  }

  #deliver(id: string, fields: string[]): void {
    let alarm: Alarm;
    try {
      alarm = decodeAlarm(id, fields[1] ?? '');
    } catch (error) {
      this.#log.error({ err: error, id }, 'skipped an unreadable alarm in the Redis log');
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(alarm);
      } catch (error) {
        this.#log.error({ err: error, id }, 'an alarm listener failed');
      }
    }
  }

  #script(
    redis: Redis,
    name: ScriptName,
    keys: string[],
    args: (string | number)[] = [],
  ): Promise<unknown[]> {
    // Scripts are registered through the `scripts` option, so they are methods ioredis adds at runtime.
    const run = (redis as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[
      name
    ];
    return run.call(redis, keys.length, ...keys, ...args) as Promise<unknown[]>;
  }

  /** Waits for the first connection attempt; afterwards a disconnected Redis fails at once. */
  async #ready(): Promise<void> {
    if (this.#closed) throw new StoreError('closed', 'the store is closed');
    if (!this.#started) await this.#firstAttempt;
    if (this.#closed) throw new StoreError('closed', 'the store is closed');
    if (!this.#started) throw new StoreError('unavailable', `cannot reach Redis at ${this.#address}`);
  }

  /**
   * Every Redis failure is the store being unavailable: the routes turn that into 503 + Retry-After.
   * A Redis that stops answering without closing the connection (a partition, a stalled disk) would
   * leave the operation pending for as long as TCP takes to notice, so past a deadline the connection
   * is dropped and reopened: pending commands fail, and health reports not ready until it is back.
   * (Not ioredis's socketTimeout: its timer survives a reconnect and can then cut the new connection.)
   */
  async #run<T>(operation: () => Promise<T>): Promise<T> {
    await this.#ready();
    let promise: Promise<T>;
    try {
      promise = operation();
    } catch (error) {
      promise = Promise.reject(error);
    }
    const settle = watchForSilence(this.#deadlineMs, () => {
      if (this.#redis.status !== 'ready') return; // already dropped
      this.#log.warn({ deadlineMs: this.#deadlineMs }, 'Redis stopped answering; reconnecting');
      this.#redis.disconnect(true);
    });
    try {
      return await promise;
    } catch (error) {
      if (error instanceof StoreError) throw error;
      if (this.#closed) throw new StoreError('closed', 'the store is closed', { cause: error });
      throw new StoreError('unavailable', `Redis: ${(error as Error).message}`, { cause: error });
    } finally {
      settle();
    }
  }

  /** Resolves once connected (the store id is known); rejects with 'unavailable' if the first attempt fails. */
  whenReady(): Promise<void> {
    return this.#ready();
  }

  storeId(): string {
    if (this.#storeId === undefined) throw new StoreError('unavailable', 'not connected to Redis yet');
    return this.#storeId;
  }

  /** A user's alarm is that user's alone (whatever its topic); otherwise it belongs to its topic. */
  #ownIndex(alarm: NewAlarm): string {
    return alarm.user !== undefined
      ? this.#keys.userIndex(alarm.user)
      : this.#keys.topicIndex(alarm.topic as string);
  }

  schedule(alarm: NewAlarm, deliverAt: number, now: number): Promise<ScheduledAlarm> {
    return this.#run(async () => {
      const seq = await this.#redis.incr(this.#keys.scheduledSeq);
      const id = `s${seq}`;
      const scheduled: ScheduledAlarm = { ...alarm, id, createdAt: now, deliverAt };
      // MULTI: the entry and its due time are written together (one AOF record).
      await this.#redis
        .multi()
        .hset(this.#keys.scheduled, id, JSON.stringify(scheduled))
        .zadd(this.#keys.scheduledDue, deliverAt, id)
        .exec();
      return scheduled;
    });
  }

  listScheduled(who: Visibility, limit: number): Promise<ScheduledAlarm[]> {
    return this.#run(async () => {
      // Bounded: a listing looks at the 10 000 soonest pending alarms at most.
      const ids = await this.#redis.zrange(this.#keys.scheduledDue, 0, 9_999);
      if (ids.length === 0) return [];
      const values = await this.#redis.hmget(this.#keys.scheduled, ...ids);
      const out: ScheduledAlarm[] = [];
      for (const value of values) {
        if (value === null) continue;
        const scheduled = JSON.parse(value) as ScheduledAlarm;
        if (isVisible({ ...scheduled, id: '0', time: 0 }, who)) out.push(scheduled);
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  releaseDue(now: number, limit: number): Promise<number> {
    return this.#run(async () => {
      const ids = await this.#redis.zrangebyscore(this.#keys.scheduledDue, '-inf', now, 'LIMIT', 0, limit);
      if (ids.length === 0) return 0;
      const values = await this.#redis.hmget(this.#keys.scheduled, ...ids);
      let released = 0;
      for (const [i, id] of ids.entries()) {
        const value = values[i];
        if (value === null || value === undefined) {
          // Released meanwhile by another instance (it removes the entry and its due time together).
          continue;
        }
        const { id: _id, createdAt: _c, deliverAt: _d, ...alarm } = JSON.parse(value) as ScheduledAlarm;
        const appended = await this.#script(
          this.#redis,
          'tocsinRelease',
          [
            this.#keys.scheduledDue,
            this.#keys.scheduled,
            this.#keys.log,
            this.#keys.allTopicsIndex,
            this.#ownIndex(alarm),
          ],
          [
            id,
            this.#now === undefined ? '' : String(this.#now()),
            encodeAlarm(alarm),
            alarm.user === undefined ? '1' : '0',
          ],
        );
        // null: another instance released it first.
        if (appended !== null) released++;
      }
      return released;
    });
  }

  append(alarm: NewAlarm): Promise<Alarm> {
    if (this.#closed) return Promise.reject(new StoreError('closed', 'the store is closed'));
    return new Promise((resolve, reject) => {
      this.#appends.push({ alarm, resolve, reject });
      if (this.#appends.length === 1) {
        // One script call for every append of this loop turn: one command to encode, one to run.
        setImmediate(() => this.#appendBatch());
      }
    });
  }

  #appendBatch(): void {
    const batch = this.#appends;
    if (batch.length === 0) return; // close() sent it already
    this.#appends = [];
    const keys = [this.#keys.log, this.#keys.allTopicsIndex];
    const position = new Map<string, number>();
    const at = (key: string) => {
      let k = position.get(key);
      if (k === undefined) {
        keys.push(key);
        k = keys.length; // Lua's KEYS is 1-based
        position.set(key, k);
      }
      return k;
    };
    const args: (string | number)[] = [this.#now === undefined ? '' : String(this.#now()), batch.length];
    for (const { alarm } of batch) {
      args.push(encodeAlarm(alarm), at(this.#ownIndex(alarm)), alarm.user === undefined ? '1' : '0');
    }
    // Resolves once Redis executed the script, i.e. after its AOF write (and fsync, with `always`).
    this.#run(
      async () => (await this.#writing(this.#script(this.#redis, 'tocsinAppend', keys, args))) as string[],
    ).then(
      (ids) => {
        for (let i = 0; i < batch.length; i++) {
          const { alarm, resolve } = batch[i] as PendingAppend;
          const id = ids[i] as string;
          resolve({ ...alarm, id, time: streamIdTime(id) });
        }
      },
      (error: unknown) => {
        for (const { reject } of batch) reject(error);
      },
    );
  }

  read(after: string | null, who: Visibility, limit: number): Promise<Alarm[]> {
    // Nothing can follow the largest possible id (and Redis rejects an exclusive range from it).
    if (after === `${U64_MAX}-${U64_MAX}`) return Promise.resolve([]);
    const topicIndexes =
      who.allTopics === true
        ? [this.#keys.allTopicsIndex]
        : [...new Set(who.topics)].map((t) => this.#keys.topicIndex(t));
    const keys = [this.#keys.log, this.#keys.userIndex(who.user), ...topicIndexes];
    return this.#run(async () => {
      const flat = (await this.#script(this.#redis, 'tocsinRead', keys, [
        after === null ? '-' : `(${after}`,
        limit,
      ])) as string[];
      const alarms: Alarm[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        alarms.push(decodeAlarm(flat[i] as string, flat[i + 1] as string));
      return alarms;
    });
  }

  // Ids carry their own time here (Redis stream ids), so a reissued id always has a new time and the
  // client's cursor time adds nothing: a rolled-back log shows as a cursor beyond the newest id.
  checkCursor(after: string, _time?: number): Promise<CursorCheck> {
    return this.#run(async () => {
      const [last, prunedThrough, origin] = (await this.#script(this.#redis, 'tocsinCursor', [
        this.#keys.log,
        this.#keys.prunedThrough,
        this.#keys.origin,
      ])) as [string, string | null, string | null];
      if (compareStreamIds(after, last) > 0) return { kind: 'unknown' };
      // Older than this log's first id: issued before a data reset (or by another store).
      if (origin !== null && after !== '0-0' && compareStreamIds(after, origin) < 0)
        return { kind: 'unknown' };
      if (prunedThrough !== null && compareStreamIds(after, prunedThrough) < 0) {
        return { kind: 'pruned', through: prunedThrough };
      }
      return { kind: 'complete' };
    });
  }

  async cursorBefore(time: number): Promise<string | null> {
    // Ids are `ms-seq`: the largest id of the millisecond before `time` precedes every alarm at or after it.
    return time <= 0 ? null : `${time - 1}-${U64_MAX}`;
  }

  newestId(): Promise<string | null> {
    return this.#run(async () => {
      const [last] = (await this.#script(this.#redis, 'tocsinCursor', [
        this.#keys.log,
        this.#keys.prunedThrough,
        this.#keys.origin,
      ])) as [string, string | null];
      return last === '0-0' ? null : last;
    });
  }

  parseId(raw: string): string | null {
    return parseStreamId(raw);
  }

  compareIds(a: string, b: string): number {
    return compareStreamIds(a, b);
  }

  subscribe(listener: AlarmListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async prune(now: number): Promise<number> {
    // Ids carry their time, so age retention is "every id below cutoff-0" (Redis's MINID).
    const cutoff = now - this.#retention.maxAgeMs;
    let removed = 0;
    for (;;) {
      const [n, more] = await this.#run(
        async () =>
          (await this.#script(
            this.#redis,
            'tocsinPrune',
            [this.#keys.log, this.#keys.prunedThrough, this.#keys.allTopicsIndex, this.#keys.legacyIndexes],
            [
              cutoff > 0 ? String(cutoff) : '',
              this.#retention.maxCount,
              PRUNE_CHUNK,
              this.#keys.userIndexPrefix,
              this.#keys.topicIndexPrefix,
            ],
          )) as [number, number],
      );
      removed += n;
      if (more === 0) return removed;
    }
  }

  health(): StoreHealth {
    if (this.#closed) return { ready: false, reason: 'store closed' };
    if (!this.#started) return { ready: false, reason: 'connecting to Redis' };
    if (this.#redis.status !== 'ready') return { ready: false, reason: 'Redis unavailable; reconnecting' };
    if (this.#tailConnection.status !== 'ready') {
      return { ready: false, reason: 'fan-out from Redis interrupted; reconnecting' };
    }
    // While writes are refused, one small write (at most once a second) notices the recovery; its
    // outcome shows in the next health check.
    if (this.#writes.probeDue()) {
      void this.#writing(this.#redis.set(this.#keys.writeProbe, String(Date.now()))).catch(() => {});
    }
    const reason = this.#writes.reason;
    return reason === undefined ? { ready: true } : { ready: false, reason };
  }

  /**
   * A write's outcome, for health: an error Redis answered with (it is up but refuses to write)
   * marks the store unable to write; a lost connection is reported by the connection state instead.
   */
  async #writing<T>(write: Promise<T>): Promise<T> {
    try {
      const result = await write;
      this.#writes.succeeded();
      return result;
    } catch (error) {
      if ((error as Error).name === 'ReplyError') this.#writes.failed(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Appends already accepted go out before the connection closes.
    this.#appendBatch();
    this.#closed = true;
    this.#listeners.clear();
    this.#settleFirstAttempt();
    if (this.#tail !== undefined) await this.#tail.stop();
    else this.#tailConnection.disconnect();
    // QUIT lets appends already sent finish first; without a connection there is nothing to wait for.
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  // TokenStore: one hash per token, plus a set of ids for list and count.

  async insert(record: TokenRecord): Promise<void> {
    const inserted = await this.#run(
      async () =>
        (await this.#script(
          this.#redis,
          'tocsinTokenInsert',
          [this.#keys.token(record.id), this.#keys.tokens],
          [record.id, ...encodeToken(record)],
        )) as unknown as number,
    );
    // A 48-bit random id colliding: refuse rather than overwrite; minting again picks another id.
    if (inserted !== 1) throw new StoreError('unavailable', `token id ${record.id} already exists`);
  }

  get(id: string): Promise<TokenRecord | undefined> {
    return this.#run(async () => decodeToken(id, await this.#redis.hgetall(this.#keys.token(id))));
  }

  list(): Promise<TokenRecord[]> {
    return this.#run(async () => {
      const ids = await this.#redis.smembers(this.#keys.tokens);
      const hashes = await Promise.all(ids.map((id) => this.#redis.hgetall(this.#keys.token(id))));
      const records = ids
        .map((id, i) => decodeToken(id, hashes[i] ?? {}))
        .filter((r): r is TokenRecord => r !== undefined);
      return records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    });
  }

  revoke(id: string, at: number): Promise<boolean> {
    return this.#run(
      async () =>
        ((await this.#script(
          this.#redis,
          'tocsinTokenRevoke',
          [this.#keys.token(id), this.#keys.revocations],
          [String(at), id],
        )) as unknown as number) === 1,
    );
  }

  revokedSince(since: number): Promise<string[]> {
    return this.#run(() => this.#redis.zrangebyscore(this.#keys.revocations, since, '+inf'));
  }

  count(): Promise<number> {
    return this.#run(() => this.#redis.scard(this.#keys.tokens));
  }
}
