import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Alarm, GapEvent, ReadyEvent } from '../protocol/index.ts';
import { type AgentStore, alarmKey, type Position, SqliteAgentStore } from './agent-store.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { type AgentConfig, type AgentConfigInput, parseAgentConfig } from './config.ts';
import type { ConnectionEnd } from './connection-end.ts';
import { RecentIds } from './dedup.ts';
import { AgentError } from './errors.ts';
import { DriftDetector, type PowerEvent, type PowerEvents } from './power.ts';
import { decideReconnect, type ReconnectDecision } from './reconnect.ts';
import { type ConnectionState, ConnectionStateMachine, type ConnectReason } from './state.ts';
import { type FetchFunction, Stream } from './stream.ts';
import { HEARTBEAT_TOLERANCE, Watchdog } from './watchdog.ts';

export interface AlarmInfo {
  /** True for alarms replayed before `ready` (missed while away), false for live ones. */
  readonly replayed: boolean;
  /**
   * Part of a backlog to show as history, summarised rather than one popup each: the first run's
   * look back, or everything a server replays after its history was reset or rolled back.
   */
  readonly backlog: boolean;
  /** Recorded before a crash but never shown: shown now, on restart. */
  readonly recovered: boolean;
}

/** Why a backlog is being replayed. */
export type BacklogReason = 'first-run' | 'store-reset';

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
      /** The server's store was reset, replaced or rolled back: its ids start over, what it holds is replayed. */
      readonly kind: 'store-reset';
      readonly previousStoreId: string | null;
      readonly message: string;
    };

export type AgentWarningCode =
  | 'cursor-corrupt'
  | 'state-damaged'
  | 'state-unwritable'
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
  /** A backlog replay is complete (before `ready`): `count` alarms were delivered with `backlog: true`. */
  backlog: [count: number, reason: BacklogReason];
  ready: [ready: ReadyEvent];
  gap: [gap: GapNotice];
  warning: [warning: AgentWarning];
}

/** What the agent is given rather than configured with: I/O and time. All optional. */
export interface AgentDeps {
  /**
   * Where position and history live; default: in memory (nothing survives a restart). The agent
   * owns it from here on and closes it in `stop()`.
   */
  readonly store?: AgentStore;
  /** System sleep and network signals (Electron's powerMonitor and net status). */
  readonly power?: PowerEvents;
  readonly clock?: Clock;
  /** [0, 1), for backoff jitter. */
  readonly random?: () => number;
  readonly fetch?: FetchFunction;
  /** Diagnostics, never containing the token. */
  readonly debug?: (message: string) => void;
}

const RESET_MESSAGE =
  'the server was reset or restored from a backup; showing the alarms it holds as history, some may be missing';

/**
 * The desktop agent: keeps exactly one authenticated event stream open to a Tocsin server, and
 * delivers every alarm once, in order, across drops, half-open connections, sleep, restarts, crashes
 * and server restarts or rollbacks.
 *
 * Invariants: at most one Stream exists at a time (every path to a new one goes through #connect,
 * which closes the old one first); at most one timer decides the next attempt; every alarm is
 * recorded durably (position + history, one write) before a listener sees it; what happens after a
 * connection ends is decided by `decideReconnect` alone.
 */
export class Agent extends EventEmitter<AgentEvents> {
  /** The validated configuration, without the token (which must never reach a renderer or a log). */
  readonly config: Omit<AgentConfig, 'token'>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #fetch: FetchFunction;
  readonly #store: AgentStore;
  readonly #power: PowerEvents | undefined;
  readonly #debug: (message: string) => void;
  readonly #machine: ConnectionStateMachine;
  readonly #seen: RecentIds;
  /** Sent with every stream so the server drops our previous, possibly half-open, connection. */
  readonly #clientId = randomUUID();
  readonly #drift: DriftDetector | undefined;

  #token: string;
  #position: Position | null = null;
  #storeId: string | null = null;
  #running = false;
  #started = false;
  #startPromise: Promise<void> | null = null;
  #unsubscribePower: (() => void) | null = null;
  /** True while the last write failed: one warning per failing streak, not one per alarm. */
  #storeFailing = false;

  #stream: Stream | null = null;
  #watchdog: Watchdog | null = null;
  #retryTimer: TimerHandle | undefined;
  /** Consecutive attempts that never became live. */
  #failures = 0;
  #serverRetryMs: number | undefined;
  #networkOffline = false;
  /**
   * What the next connection asks for when there is no position (null: the first-run look back),
   * and whether what that brings is a backlog to summarise.
   */
  #nextSince: { readonly since: string; readonly backlog: BacklogReason | null } | null = null;
  /** The server refused `?since=` (an older server): it replays everything without a cursor. */
  #sinceUnsupported = false;
  #sentSince = false;

  // Per-stream facts, reset by #connect.
  #ready = false;
  #phase: 'connecting' | 'replaying' | 'live' = 'connecting';
  #gapUnknown = false;
  #sentPosition: Position | null = null;
  #backlog: BacklogReason | null = null;
  #backlogCount = 0;
  /** New alarms received in this chunk, recorded together in one write (see #flushAlarms). */
  #pending: { readonly alarm: Alarm; readonly info: AlarmInfo }[] = [];
  /** The position moved since the last write. */
  #positionDirty = false;
  #flushQueued = false;

  constructor(config: AgentConfigInput, deps: AgentDeps = {}) {
    super();
    const { token, ...rest } = parseAgentConfig(config);
    this.config = rest;
    this.#token = token;
    this.#clock = deps.clock ?? systemClock;
    this.#random = deps.random ?? Math.random;
    this.#fetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#store = deps.store ?? new SqliteAgentStore(':memory:');
    this.#power = deps.power;
    this.#debug = deps.debug ?? (() => {});
    this.#seen = new RecentIds(this.config.dedupCapacity);
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
        : new DriftDetector(this.#clock, sleep, (drift) => {
            this.#debug(`the wall clock drifted ${drift} ms from the monotonic one: sleep or a clock step`);
            this.#wake('clock-drift');
          });
  }

  get state(): ConnectionState {
    return this.#machine.current;
  }

  /** The last alarm received (id and time) and its store; null before the first. */
  get position(): Position | null {
    return this.#position;
  }

  /**
   * Loads the saved state, shows what was recorded but never shown (a crash), and connects.
   * Resolves once the first attempt started (not once live).
   */
  start(): Promise<void> {
    if (this.#startPromise !== null) return this.#startPromise;
    this.#startPromise = this.#start();
    return this.#startPromise;
  }

  async #start(): Promise<void> {
    if (this.#started) throw new AgentError('stopped', 'an agent cannot be started again after stop()');
    this.#started = true;
    const loaded = this.#store.load();
    if (loaded.problem !== undefined) this.#warn(loaded.problem.code, loaded.problem.message);
    this.#position = loaded.position;
    this.#storeId = loaded.position?.storeId ?? null;
    for (const key of loaded.seen) this.#seen.add(key);
    this.#running = true;
    for (const alarm of loaded.unshown)
      this.#show(alarm, { replayed: true, backlog: false, recovered: true });
    this.#unsubscribePower = this.#power?.subscribe((event) => this.#onPower(event)) ?? null;
    this.#drift?.start();
    this.#connect('start');
  }

  /** Closes the stream, cancels every timer and closes the store (everything is already on disk). */
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
    this.#store.close();
  }

  /** A new token (the user signed in again): reconnect with it at once. */
  setToken(token: string): void {
    if (token === '') throw new AgentError('invalid-config', 'a token is required');
    this.#token = token;
    if (this.#running) {
      this.#failures = 0;
      this.#connect('token-changed');
    }
  }

  /** Reconnect now, skipping any backoff wait (a "retry now" menu item). */
  reconnectNow(): void {
    if (!this.#running || this.state.status === 'auth-required') return;
    this.#failures = 0;
    this.#connect('retry');
  }

  // ---- connection lifecycle ----

  #connect(reason: ConnectReason): void {
    this.#teardown();
    this.#ready = false;
    this.#phase = 'connecting';
    this.#gapUnknown = false;
    this.#backlogCount = 0;
    this.#sentPosition = this.#position;
    this.#setState({ status: 'connecting', reason, attempt: this.#failures, since: this.#clock.now() });

    const url = new URL('v1/stream', this.config.server);
    if (this.config.topics.length > 0) url.searchParams.set('topics', this.config.topics.join(','));
    this.#sentSince = false;
    this.#backlog = null;
    if (this.#position === null) {
      // No cursor means live only to the server: ask for the look back explicitly.
      const since = this.#nextSince?.since ?? this.config.initialReplay;
      if (since !== 'none') {
        if (!this.#sinceUnsupported) {
          url.searchParams.set('since', since);
          this.#sentSince = true;
        }
        this.#backlog = this.#nextSince === null ? 'first-run' : this.#nextSince.backlog;
      }
    }

    let stream: Stream | null = null;
    // Handlers of a replaced stream must not act: each checks it is still the current one.
    const current = () => stream !== null && this.#stream === stream;
    this.#watchdog = new Watchdog(this.#clock, this.config.connectTimeoutMs, () => {
      if (!current()) return;
      const afterMs = this.#watchdog?.timeoutMs ?? 0;
      this.#ended(
        this.#phase === 'connecting'
          ? { kind: 'connect-timeout', afterMs }
          : { kind: 'heartbeat-timeout', afterMs },
      );
    });
    stream = new Stream({
      url,
      token: this.#token,
      lastEventId: this.#sentPosition?.id ?? null,
      cursorTime: this.#sentPosition?.time ?? null,
      clientId: this.#clientId,
      fetch: this.#fetch,
      clock: this.#clock,
      handlers: {
        onOpen: () => {
          if (!current()) return;
          this.#debug('stream open');
          this.#phase = 'replaying';
          this.#watchdog?.reset(this.config.replayTimeoutMs);
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
          if (current()) this.#ended(end);
        },
      },
    });
    this.#stream = stream;
  }

  /** Closes the stream and cancels the watchdog and any scheduled attempt. */
  #teardown(): void {
    this.#flushAlarms();
    this.#stream?.close();
    this.#stream = null;
    this.#watchdog?.stop();
    this.#watchdog = null;
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #onAlarm(alarm: Alarm): void {
    // The position is our place in the server's stream, which arrives in order: it moves with every
    // alarm received, duplicates included, so a restart never asks for one of them again.
    this.#position = { id: alarm.id, time: alarm.time, storeId: this.#storeId };
    this.#positionDirty = true;
    if (!this.#seen.add(alarmKey(alarm))) {
      this.#debug(`duplicate alarm ${alarm.id} skipped`);
    } else {
      const backlog = !this.#ready && this.#backlog !== null;
      if (backlog) this.#backlogCount += 1;
      this.#pending.push({ alarm, info: { replayed: !this.#ready, backlog, recovered: false } });
    }
    // The rest of this chunk's alarms are parsed before the microtask runs: one write for all.
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flushAlarms());
    }
  }

  /**
   * Durable before visible: records the chunk's new alarms and the position in one write, then shows
   * them one by one, marking each shown. A crash before the write loses nothing the server will not
   * replay; after it, what was recorded but not shown is shown on restart. Called before anything
   * that depends on the alarms so far (ready, gap, the end of the stream).
   */
  #flushAlarms(): void {
    this.#flushQueued = false;
    const batch = this.#pending;
    this.#pending = [];
    const position = this.#position;
    if (!this.#positionDirty || position === null) return;
    this.#positionDirty = false;
    if (batch.length === 0) {
      const last = position;
      this.#persist(() => this.#store.setPosition(last, false));
      return;
    }
    this.#persist(() =>
      this.#store.recordBatch(
        batch.map((b) => b.alarm),
        position,
      ),
    );
    for (const { alarm, info } of batch) this.#show(alarm, info);
  }

  #show(alarm: Alarm, info: AlarmInfo): void {
    this.#emit('alarm', alarm, info);
    // At most this one alarm repeats if the process dies right here.
    this.#persist(() => this.#store.markShown(alarm));
  }

  #onGap(gap: GapEvent): void {
    this.#flushAlarms();
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
    // Our position is beyond what the server holds, or names an id it reissued: its history was
    // reset or rolled back. It replays what it holds; id+time de-duplication keeps what we already
    // showed from showing again, and the rest is a backlog to summarise.
    this.#gapUnknown = true;
    this.#backlog = 'store-reset';
    this.#position = null;
    this.#persist(() => this.#store.forgetPosition());
    this.#emit('gap', { kind: 'store-reset', previousStoreId: this.#storeId, message: RESET_MESSAGE });
  }

  #onReady(ready: ReadyEvent): void {
    this.#flushAlarms();
    const previousStore = this.#storeId;
    if (
      previousStore !== null &&
      previousStore !== ready.storeId &&
      !this.#gapUnknown &&
      this.#sentPosition !== null
    ) {
      // Our cursor came from another store whose ids happen to exist here too, so the replay started
      // at a meaningless point. Ask again for all it holds; id+time de-duplication spares repeats.
      this.#storeId = ready.storeId;
      this.#position = null;
      this.#nextSince = { since: 'all', backlog: 'store-reset' };
      this.#persist(() => this.#store.forgetPosition());
      this.#emit('gap', { kind: 'store-reset', previousStoreId: previousStore, message: RESET_MESSAGE });
      this.#connect('store-changed');
      return;
    }
    this.#ready = true;
    this.#phase = 'live';
    this.#nextSince = null;
    this.#networkOffline = false;
    this.#failures = 0;
    this.#storeId = ready.storeId;
    if (this.#position === null) {
      // Live with nothing received yet: no cursor would mean "live only" on the next connection, and
      // whatever is published in between would be lost. Stand at the server's cursor instead; with
      // an empty store, everything it will hold is new to us.
      if (ready.cursor !== null) {
        const position: Position = { id: ready.cursor, time: null, storeId: ready.storeId };
        this.#position = position;
        this.#persist(() => this.#store.setPosition(position));
      } else {
        this.#nextSince = { since: 'all', backlog: null };
      }
    }
    if (this.#backlog !== null && this.#backlogCount > 0) {
      this.#emit('backlog', this.#backlogCount, this.#backlog);
    }
    this.#backlog = null;
    this.#watchdog?.reset(Math.ceil(ready.heartbeatMs * HEARTBEAT_TOLERANCE));
    this.#setState({
      status: 'live',
      reason: 'ready',
      since: this.#clock.now(),
      heartbeatMs: ready.heartbeatMs,
      storeId: ready.storeId,
    });
    this.#emit('ready', ready);
  }

  /** The connection ended on its own: apply the policy's decision. */
  #ended(end: ConnectionEnd): void {
    this.#flushAlarms();
    const wasLive = this.#ready;
    this.#teardown();
    const decision = decideReconnect(
      end,
      {
        wasLive,
        failures: this.#failures,
        serverRetryMs: this.#serverRetryMs,
        networkOffline: this.#networkOffline,
        sentCursor: this.#sentPosition !== null,
        sentSince: this.#sentSince,
      },
      this.config.backoff,
      this.#random,
    );
    this.#debug(`connection ended (${end.kind}): ${decision.action}`);
    this.#apply(decision);
  }

  #apply(decision: ReconnectDecision): void {
    const now = this.#clock.now();
    switch (decision.action) {
      case 'sign-in':
        this.#setState({
          status: 'auth-required',
          reason: decision.reason,
          since: now,
          detail: decision.detail,
        });
        return;
      case 'drop-cursor':
        this.#warn(
          'cursor-rejected',
          `the server rejected the saved cursor (${decision.detail}); showing what it holds as history`,
        );
        this.#position = null;
        this.#nextSince = { since: 'all', backlog: 'store-reset' };
        this.#persist(() => this.#store.forgetPosition());
        this.#connect('cursor-rejected');
        return;
      case 'drop-since':
        this.#debug(`the server refused ?since= (${decision.detail}); asking without it`);
        this.#sinceUnsupported = true;
        this.#connect('cursor-rejected');
        return;
      case 'offline':
        this.#goOffline(now);
        return;
      case 'retry':
        this.#failures = decision.failures;
        this.#setState({
          status: 'reconnecting',
          reason: decision.reason,
          since: now,
          attempt: decision.failures,
          nextAttemptAt: now + decision.delayMs,
          delayMs: decision.delayMs,
          detail: decision.detail,
          ...(decision.httpStatus === undefined ? {} : { httpStatus: decision.httpStatus }),
        });
        this.#retryTimer = this.#clock.setTimeout(() => {
          this.#retryTimer = undefined;
          if (this.#running) this.#connect('retry');
        }, decision.delayMs);
        return;
    }
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
    this.#failures = 0;
    this.#connect(reason);
  }

  /**
   * No network: no attempts until 'online', except a probe every `capMs`, in case the 'online' signal
   * never comes (a shell that missed it must not leave the user without alarms forever).
   */
  #goOffline(now: number): void {
    const probeIn = this.config.backoff.capMs;
    this.#setState({ status: 'offline', reason: 'offline', since: now, nextProbeAt: now + probeIn });
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#running) this.#connect('offline-probe');
    }, probeIn);
  }

  // ---- helpers ----

  /** Runs a store write; a failing store is reported once per failing streak, and never stops delivery. */
  #persist(write: () => void): void {
    try {
      write();
      this.#storeFailing = false;
    } catch (error) {
      if (this.#storeFailing) return;
      this.#storeFailing = true;
      this.#warn(
        'cursor-write-failed',
        `${(error as Error).message}; alarms keep coming, but a restart may show some again (said once until it works again)`,
        error,
      );
    }
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
