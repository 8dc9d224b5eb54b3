import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Alarm, GapEvent, ReadyEvent } from '../protocol/index.ts';
import { type BackoffPolicy, reconnectDelay } from './backoff.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { type AgentConfig, type AgentConfigInput, parseAgentConfig } from './config.ts';
import { type Cursor, type CursorProblemCode, type CursorStore, MemoryCursorStore } from './cursor.ts';
import { RecentIds } from './dedup.ts';
import { AgentError } from './errors.ts';
import { DriftDetector, type PowerEvent, type PowerEvents } from './power.ts';
import {
  type ConnectionState,
  ConnectionStateMachine,
  type ConnectReason,
  type FailureReason,
} from './state.ts';
import { type FetchFunction, Stream, type StreamEnd } from './stream.ts';
import { HEARTBEAT_TOLERANCE, Watchdog } from './watchdog.ts';

export interface AlarmInfo {
  /** True for alarms replayed before `ready` (missed while away), false for live ones. */
  readonly replayed: boolean;
}

/** Something the user should know about the completeness of what they were shown. */
export type GapNotice =
  | {
      /** Server retention removed alarms in (after, through] before this client could fetch them. */
      readonly kind: 'pruned';
      readonly after: string;
      readonly through: string | null;
      readonly message: string;
    }
  | {
      /** The server's store was reset or replaced: its ids start over, everything it holds is replayed. */
      readonly kind: 'store-reset';
      readonly previousStoreId: string | null;
      readonly message: string;
    };

export type AgentWarningCode =
  | CursorProblemCode
  | 'cursor-write-failed'
  | 'cursor-rejected'
  | 'malformed-frame'
  | 'listener-failed';

export interface AgentWarning {
  readonly code: AgentWarningCode;
  readonly message: string;
  readonly cause?: unknown;
}

export interface AgentEvents {
  state: [state: ConnectionState, previous: ConnectionState];
  alarm: [alarm: Alarm, info: AlarmInfo];
  ready: [ready: ReadyEvent];
  gap: [gap: GapNotice];
  warning: [warning: AgentWarning];
}

/** What the agent is given rather than configured with: I/O and time. All optional. */
export interface AgentDeps {
  /** Where the cursor lives; default: memory only (nothing survives a restart). */
  readonly cursorStore?: CursorStore;
  /** System sleep and network signals (Electron's powerMonitor and net status). */
  readonly power?: PowerEvents;
  readonly clock?: Clock;
  /** [0, 1), for backoff jitter. */
  readonly random?: () => number;
  readonly fetch?: FetchFunction;
  /** Ids already shown (e.g. from local history), so a replay after a lost cursor write repeats nothing. */
  readonly seenIds?: Iterable<string>;
  /** Diagnostics, never containing the token. */
  readonly debug?: (message: string) => void;
}

/**
 * The desktop agent: keeps exactly one authenticated event stream open to a Tocsin server, and
 * delivers every alarm once, in order, across drops, half-open connections, sleep, restarts and
 * server restarts.
 *
 * Invariants: at most one Stream exists at a time (every path to a new one goes through #connect,
 * which closes the old one first); at most one timer decides the next attempt; the cursor only moves
 * forward with delivered alarms, and is saved before the process may exit (`stop()` flushes it).
 */
export class Agent extends EventEmitter<AgentEvents> {
  /** The validated configuration, without the token (which must never reach a renderer or a log). */
  readonly config: Omit<AgentConfig, 'token'>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #fetch: FetchFunction;
  readonly #cursorStore: CursorStore;
  readonly #power: PowerEvents | undefined;
  readonly #debug: (message: string) => void;
  readonly #policy: BackoffPolicy;
  readonly #machine: ConnectionStateMachine;
  readonly #seen: RecentIds;
  /** Sent with every stream so the server drops our previous, possibly half-open, connection. */
  readonly #clientId = randomUUID();
  readonly #drift: DriftDetector | undefined;

  #token: string;
  #cursor: Cursor = { id: null, storeId: null };
  #running = false;
  #startPromise: Promise<void> | null = null;
  #unsubscribePower: (() => void) | null = null;

  #stream: Stream | null = null;
  #watchdog: Watchdog | null = null;
  #retryTimer: TimerHandle | undefined;
  /** Consecutive failed attempts since the last stable live period. */
  #attempt = 0;
  #liveSince: number | null = null;
  #serverRetryMs: number | undefined;
  #networkOffline = false;

  // Per-stream facts, reset by #connect.
  #ready = false;
  #gapUnknown = false;
  #sentCursor: string | null = null;
  #idsThisStream: string[] = [];
  #pendingSave: Promise<void> = Promise.resolve();

  constructor(config: AgentConfigInput, deps: AgentDeps = {}) {
    super();
    const { token, ...rest } = parseAgentConfig(config);
    this.config = rest;
    this.#token = token;
    this.#clock = deps.clock ?? systemClock;
    this.#random = deps.random ?? Math.random;
    this.#fetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#cursorStore = deps.cursorStore ?? new MemoryCursorStore();
    this.#power = deps.power;
    this.#debug = deps.debug ?? (() => {});
    this.#policy = this.config.backoff;
    this.#seen = new RecentIds(this.config.dedupCapacity, deps.seenIds);
    this.#machine = new ConnectionStateMachine({
      status: 'stopped',
      reason: 'stop',
      since: this.#clock.now(),
    });
    this.#machine.subscribe((state, previous) => this.#emit('state', state, previous));
    const sleep = this.config.sleepDetection;
    this.#drift =
      sleep === false
        ? undefined
        : new DriftDetector(this.#clock, sleep, (late) => {
            this.#debug(`timer drift of ${late} ms: the system slept`);
            this.#wake('clock-drift');
          });
  }

  get state(): ConnectionState {
    return this.#machine.current;
  }

  /** The last delivered alarm id and its store. */
  get cursor(): Cursor {
    return this.#cursor;
  }

  /** Loads the cursor and connects. Resolves once the first attempt started (not once live). */
  start(): Promise<void> {
    if (this.#startPromise !== null) return this.#startPromise;
    this.#startPromise = this.#start();
    return this.#startPromise;
  }

  async #start(): Promise<void> {
    const loaded = await this.#cursorStore.load();
    if (loaded.problem !== undefined) this.#warn(loaded.problem.code, loaded.problem.message);
    if (loaded.cursor !== null) this.#cursor = loaded.cursor;
    this.#running = true;
    this.#unsubscribePower = this.#power?.subscribe((event) => this.#onPower(event)) ?? null;
    this.#drift?.start();
    this.#connect('start');
  }

  /** Closes the stream, cancels every timer and waits until the cursor is on disk. */
  async stop(): Promise<void> {
    if (this.#startPromise !== null) await this.#startPromise.catch(() => {});
    this.#startPromise = null;
    if (this.#running) {
      this.#running = false;
      this.#unsubscribePower?.();
      this.#unsubscribePower = null;
      this.#drift?.stop();
      this.#teardown();
      this.#setState({ status: 'stopped', reason: 'stop', since: this.#clock.now() });
    }
    await this.#pendingSave.catch(() => {});
    await this.#cursorStore.flush().catch(() => {});
  }

  /** A new token (the user signed in again): reconnect with it at once. */
  setToken(token: string): void {
    if (token === '') throw new AgentError('invalid-config', 'a token is required');
    this.#token = token;
    if (this.#running) {
      this.#attempt = 0;
      this.#connect('token-changed');
    }
  }

  /** Reconnect now, skipping any backoff wait (a "retry now" menu item). */
  reconnectNow(): void {
    if (!this.#running || this.state.status === 'auth-required') return;
    this.#attempt = 0;
    this.#connect('retry');
  }

  // ---- connection lifecycle ----

  #connect(reason: ConnectReason): void {
    this.#teardown();
    this.#ready = false;
    this.#gapUnknown = false;
    this.#idsThisStream = [];
    this.#sentCursor = this.#cursor.id;
    this.#setState({ status: 'connecting', reason, attempt: this.#attempt, since: this.#clock.now() });

    const url = new URL('v1/stream', this.config.server);
    if (this.config.topics.length > 0) url.searchParams.set('topics', this.config.topics.join(','));
    // Without a cursor the server sends live alarms only: the first run asks for what is retained.
    if (this.#sentCursor === null) url.searchParams.set('since', 'all');
    let stream: Stream | null = null;
    // Handlers of a replaced stream must not act: each checks it is still the current one.
    const current = () => stream !== null && this.#stream === stream;
    this.#watchdog = new Watchdog(this.#clock, this.config.connectTimeoutMs, () => {
      if (current()) this.#fail({ kind: 'heartbeat-timeout' });
    });
    stream = new Stream({
      url,
      token: this.#token,
      lastEventId: this.#sentCursor,
      clientId: this.#clientId,
      fetch: this.#fetch,
      clock: this.#clock,
      handlers: {
        onOpen: () => {
          if (current()) this.#debug('stream open');
        },
        onActivity: () => {
          if (current()) this.#watchdog?.feed();
        },
        onRetry: (ms) => {
          if (current()) this.#serverRetryMs = ms;
        },
        onAlarm: (alarm) => {
          if (current()) this.#onAlarm(alarm);
        },
        onReady: (ready) => {
          if (current()) this.#onReady(ready);
        },
        onGap: (gap) => {
          if (current()) this.#onGap(gap);
        },
        onMalformed: (event, issue) => {
          if (current()) this.#warn('malformed-frame', `skipped a malformed "${event}" frame (${issue})`);
        },
        onHandlerError: (error) => this.#warn('listener-failed', 'an alarm listener threw', error),
        onEnd: (end) => {
          if (current()) this.#fail(end);
        },
      },
    });
    this.#stream = stream;
  }

  /** Closes the stream and cancels the watchdog and any scheduled attempt. */
  #teardown(): void {
    this.#stream?.close();
    this.#stream = null;
    this.#watchdog?.stop();
    this.#watchdog = null;
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #onAlarm(alarm: Alarm): void {
    // The cursor is our position in the server's stream, which arrives in id order: it moves with
    // every alarm received, duplicates included, so a restart never asks for one of them again.
    this.#cursor = { id: alarm.id, storeId: this.#cursor.storeId };
    this.#saveCursor();
    if (!this.#seen.add(alarm.id)) {
      this.#debug(`duplicate alarm ${alarm.id} skipped`);
      return;
    }
    if (!this.#ready) this.#idsThisStream.push(alarm.id);
    this.#emit('alarm', alarm, { replayed: !this.#ready });
  }

  #onGap(gap: GapEvent): void {
    if (gap.reason === 'pruned') {
      this.#emit('gap', {
        kind: 'pruned',
        after: gap.after,
        through: gap.through,
        message:
          'the server no longer holds some alarms sent while this device was away; some may be missing',
      });
      return;
    }
    // The id we sent is not from this store's sequence: the server replays everything it holds.
    this.#gapUnknown = true;
    this.#seen.clear();
    this.#emit('gap', {
      kind: 'store-reset',
      previousStoreId: this.#cursor.storeId,
      message: 'the server was reset; showing every alarm it still holds, some may be missing',
    });
  }

  #onReady(ready: ReadyEvent): void {
    const previousStore = this.#cursor.storeId;
    if (
      previousStore !== null &&
      previousStore !== ready.storeId &&
      !this.#gapUnknown &&
      this.#sentCursor !== null
    ) {
      // Our cursor came from another store whose ids happen to exist here too, so the replay started at
      // a meaningless point. Start over from the oldest retained alarm; what this stream already
      // delivered is from the new store and stays de-duplicated.
      const delivered = this.#idsThisStream;
      this.#seen.clear();
      for (const id of delivered) this.#seen.add(id);
      this.#cursor = { id: null, storeId: ready.storeId };
      this.#saveCursor();
      this.#emit('gap', {
        kind: 'store-reset',
        previousStoreId: previousStore,
        message: 'the server was reset; showing every alarm it still holds, some may be missing',
      });
      this.#connect('store-changed');
      return;
    }
    this.#ready = true;
    this.#idsThisStream = [];
    this.#networkOffline = false;
    if (this.#cursor.storeId !== ready.storeId) {
      this.#cursor = { id: this.#cursor.id, storeId: ready.storeId };
      this.#saveCursor();
    }
    this.#watchdog?.reset(Math.ceil(ready.heartbeatMs * HEARTBEAT_TOLERANCE));
    this.#liveSince = this.#clock.now();
    this.#setState({
      status: 'live',
      reason: 'ready',
      since: this.#liveSince,
      heartbeatMs: ready.heartbeatMs,
      storeId: ready.storeId,
    });
    this.#emit('ready', ready);
  }

  #fail(end: StreamEnd | { kind: 'heartbeat-timeout' }): void {
    this.#teardown();
    const now = this.#clock.now();
    if (this.#liveSince !== null && now - this.#liveSince >= this.#policy.stableAfterMs) this.#attempt = 0;
    this.#liveSince = null;

    let reason: FailureReason;
    let detail: string;
    let retryAfterMs: number | undefined;
    let httpStatus: number | undefined;
    switch (end.kind) {
      case 'heartbeat-timeout':
        reason = 'heartbeat-timeout';
        detail = 'no data from the server in time; the connection is dead';
        break;
      case 'network-error':
        reason = 'network-error';
        detail = end.message;
        break;
      case 'server-closed':
        reason = 'server-closed';
        detail = 'the server ended the stream';
        break;
      case 'bad-response':
        reason = 'bad-response';
        detail = end.message;
        break;
      case 'http': {
        httpStatus = end.status;
        const code = end.problem?.code;
        const said = end.problem?.detail ?? end.problem?.title ?? `HTTP ${end.status}`;
        if (end.status === 401 || end.status === 403) {
          this.#setState({
            status: 'auth-required',
            reason: end.status === 401 ? 'unauthorized' : 'forbidden',
            since: now,
            detail: said,
          });
          return;
        }
        if (code === 'bad-last-event-id' && this.#sentCursor !== null) {
          this.#warn(
            'cursor-rejected',
            `the server rejected the saved cursor (${said}); replaying all it holds`,
          );
          this.#cursor = { id: null, storeId: null };
          this.#saveCursor();
          this.#connect('cursor-rejected');
          return;
        }
        if (end.status === 400 || end.status === 404) {
          // Retrying the same request cannot help (bad topics, not a Tocsin server): say so and stop.
          this.#setState({ status: 'stopped', reason: 'rejected', since: now, detail: said });
          return;
        }
        reason = end.status === 429 ? 'rate-limited' : end.status === 503 ? 'unavailable' : 'http-error';
        detail = said;
        retryAfterMs = end.retryAfterMs;
        break;
      }
    }

    if (this.#networkOffline) {
      this.#goOffline(now);
      return;
    }
    const delay = reconnectDelay(
      this.#policy,
      { attempt: this.#attempt, serverRetryMs: this.#serverRetryMs, retryAfterMs },
      this.#random,
    );
    this.#attempt += 1;
    this.#setState({
      status: 'reconnecting',
      reason,
      since: now,
      attempt: this.#attempt,
      nextAttemptAt: now + delay,
      detail,
      ...(httpStatus === undefined ? {} : { httpStatus }),
    });
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#running) this.#connect('retry');
    }, delay);
  }

  // ---- sleep, wake and network ----

  #onPower(event: PowerEvent): void {
    if (!this.#running) return;
    this.#debug(`power event: ${event}`);
    switch (event) {
      case 'suspend':
        if (this.state.status === 'auth-required' || this.state.status === 'stopped') return;
        // Whatever the socket does while we sleep, it cannot be trusted after: close it now.
        this.#teardown();
        this.#liveSince = null;
        this.#setState({ status: 'suspended', reason: 'suspend', since: this.#clock.now() });
        return;
      case 'resume':
        this.#wake('resume');
        return;
      case 'online':
        this.#networkOffline = false;
        // A live stream may have survived a network blip; if not, the watchdog will notice.
        if (this.state.status !== 'live') this.#wake('online');
        return;
      case 'offline':
        this.#networkOffline = true;
        if (['suspended', 'auth-required', 'stopped'].includes(this.state.status)) return;
        this.#teardown();
        this.#liveSince = null;
        this.#goOffline(this.#clock.now());
        return;
    }
  }

  /** Reconnect at once, no backoff: the reason for the failures (sleep, no network) is over. */
  #wake(reason: ConnectReason): void {
    if (!this.#running) return;
    const state = this.state;
    if (state.status === 'auth-required') return;
    // A wake signal right after another (powerMonitor and the drift detector both noticed) must not
    // restart the attempt already under way.
    if (state.status === 'connecting' && state.reason !== 'retry' && state.reason !== 'start') return;
    if (reason === 'resume' || reason === 'clock-drift') this.#networkOffline = false;
    this.#attempt = 0;
    this.#connect(reason);
  }

  /**
   * No network: no attempts until 'online', except a probe every `capMs`, in case the 'online' signal
   * never comes (a shell that missed it must not leave the user without alarms forever).
   */
  #goOffline(now: number): void {
    const probeIn = this.#policy.capMs;
    this.#setState({ status: 'offline', reason: 'offline', since: now, nextProbeAt: now + probeIn });
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#running) this.#connect('offline-probe');
    }, probeIn);
  }

  // ---- helpers ----

  #saveCursor(): void {
    const cursor = this.#cursor;
    this.#pendingSave = this.#cursorStore.save(cursor).catch((error: unknown) => {
      this.#warn('cursor-write-failed', `could not save the cursor: ${(error as Error).message}`, error);
    });
  }

  #setState(state: ConnectionState): void {
    this.#machine.set(state);
  }

  #warn(code: AgentWarningCode, message: string, cause?: unknown): void {
    this.#emit('warning', cause === undefined ? { code, message } : { code, message, cause });
  }

  /** Emits without letting a throwing listener break the agent's own bookkeeping. */
  #emit<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: AgentEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      if (event === 'warning') {
        this.#debug(`a warning listener threw: ${String(error)}`);
        return;
      }
      this.#warn('listener-failed', `a "${event}" listener threw: ${String(error)}`, error);
    }
  }
}
