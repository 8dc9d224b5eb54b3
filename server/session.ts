import type { ServerResponse } from 'node:http';
import type { Alarm } from '../protocol/index.ts';
import type { Visibility } from './store/store.ts';
import type { Principal } from './tokens.ts';

export type DisconnectReason =
  | 'client-closed'
  | 'write-error'
  | 'slow-consumer'
  | 'shutdown'
  | 'revoked'
  /** The same client opened a new stream (its old connection had gone half-open). */
  | 'replaced';

export interface SessionHooks {
  /** Unflushed bytes a stream may hold for up to `slowConsumerGraceMs`; 4× this closes it at once. */
  readonly maxBufferedBytes: number;
  readonly slowConsumerGraceMs: number;
  readonly now: () => number;
  readonly compareIds: (a: string, b: string) => number;
  onFrame(): void;
  onClose(session: SseSession, reason: DisconnectReason, error?: unknown): void;
}

let nextSessionId = 1;

/**
 * One subscriber's open event stream. Every write is a whole frame and is guarded: once the peer is
 * gone (EPIPE, ECONNRESET, socket destroyed mid-write) the session closes itself exactly once and
 * later writes are no-ops, so a vanished client can never throw into the fan-out loop.
 *
 * Until `goLive()` the session is replaying from the store; live alarms that arrive meanwhile wait in
 * a backlog and are sent after the replay, skipping any the replay already delivered.
 */
export class SseSession {
  readonly id = nextSessionId++;
  readonly principal: Principal;
  readonly visibility: Visibility;
  /** The client instance's id (X-Tocsin-Client), when it sent one. */
  clientId: string | null = null;
  /** The id of the last alarm written to this stream. */
  lastId: string | null;
  readonly #res: ServerResponse;
  readonly #hooks: SessionHooks;
  #live = false;
  #closed = false;
  #backlog: { alarm: Alarm; frame: Buffer }[] = [];
  #backlogBytes = 0;
  /** Since when the buffer has been over the soft cap without draining (null: it is not). */
  #overSince: number | null = null;

  constructor(
    res: ServerResponse,
    principal: Principal,
    visibility: Visibility,
    after: string | null,
    hooks: SessionHooks,
  ) {
    this.#res = res;
    this.principal = principal;
    this.visibility = visibility;
    this.lastId = after;
    this.#hooks = hooks;
    // Without an 'error' listener a failed write would crash the process: make it a routine close.
    res.on('error', (error) => this.close('write-error', undefined, error));
    res.on('close', () => this.close('client-closed'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bufferedBytes(): number {
    return this.#closed ? 0 : this.#res.writableLength + this.#backlogBytes;
  }

  get live(): boolean {
    return this.#live;
  }

  /** Writes one complete frame. Returns false when the stream is closed or its buffer is full. */
  write(frame: string | Buffer): boolean {
    if (this.#closed) return false;
    const res = this.#res;
    if (res.writableEnded || res.destroyed) {
      this.close('client-closed');
      return false;
    }
    const flushed = res.write(frame);
    this.#hooks.onFrame();
    return this.#checkBacklog() && flushed;
  }

  /**
   * A burst of alarms briefly over the cap is normal for a healthy reader; a reader that stays over it
   * for the grace period, or falls 4× behind, has stopped reading. Returns false when it closed.
   */
  #checkBacklog(): boolean {
    const res = this.#res;
    const { maxBufferedBytes, slowConsumerGraceMs, now } = this.#hooks;
    if (res.writableLength <= maxBufferedBytes) return true;
    if (res.writableLength > 4 * maxBufferedBytes) {
      this.close('slow-consumer');
      return false;
    }
    if (this.#overSince === null) {
      this.#overSince = now();
      res.once('drain', () => {
        this.#overSince = null;
      });
      return true;
    }
    if (now() - this.#overSince >= slowConsumerGraceMs) {
      this.close('slow-consumer');
      return false;
    }
    return true;
  }

  /** Writes an alarm frame during replay and advances the cursor. */
  writeAlarm(alarm: Alarm, frame: string | Buffer): boolean {
    const ok = this.write(frame);
    this.lastId = alarm.id;
    return ok;
  }

  /** A live alarm from the fan-out. */
  deliver(alarm: Alarm, frame: Buffer): void {
    if (this.#closed) return;
    if (!this.#live) {
      this.#backlog.push({ alarm, frame });
      this.#backlogBytes += frame.length;
      if (this.#backlogBytes > 4 * this.#hooks.maxBufferedBytes) this.close('slow-consumer');
      return;
    }
    if (this.lastId !== null && this.#hooks.compareIds(alarm.id, this.lastId) <= 0) return;
    this.writeAlarm(alarm, frame);
  }

  /** Ends replay: sends the backlog the replay did not already cover, then delivers live. */
  goLive(): void {
    const backlog = this.#backlog;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.#live = true;
    for (const { alarm, frame } of backlog) this.deliver(alarm, frame);
  }

  /** Resolves once the socket drained its buffer, or the session closed. */
  drained(): Promise<void> {
    if (this.#closed || this.#res.writableLength === 0 || !this.#res.writableNeedDrain)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#res.off('drain', done);
        this.#res.off('close', done);
        resolve();
      };
      this.#res.on('drain', done);
      this.#res.on('close', done);
    });
  }

  /** Closes once; a final frame (e.g. a short `retry:` on shutdown) is written first when possible. */
  close(reason: DisconnectReason, finalFrame?: string, error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backlog = [];
    const res = this.#res;
    if (reason === 'slow-consumer' || reason === 'write-error') {
      // Don't wait to flush megabytes to a peer that isn't reading: free the memory now.
      res.destroy();
    } else if (!res.writableEnded && !res.destroyed) {
      if (finalFrame !== undefined) res.end(finalFrame);
      else res.end();
    }
    this.#hooks.onClose(this, reason, error);
  }
}
