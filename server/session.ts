import type { ServerResponse } from 'node:http';
import type { Alarm } from '../protocol/index.ts';
import type { Visibility } from './store/store.ts';
import type { StreamFormat } from './stream-format.ts';
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
  /** Unflushed bytes a stream may hold while its reader makes no progress for `slowConsumerGraceMs`. */
  readonly maxBufferedBytes: number;
  /** The largest single frame: the hard ceiling always leaves room for one, however large. */
  readonly maxFrameBytes: number;
  readonly slowConsumerGraceMs: number;
  readonly now: () => number;
  readonly compareIds: (a: string, b: string) => number;
  onFrame(): void;
  onClose(session: StreamSession, reason: DisconnectReason, error?: unknown): void;
}

/** A live alarm's frame for this session's format (encoded once per format by the fan-out). */
export type FrameSource = (format: StreamFormat) => Buffer;

let nextSessionId = 1;

/**
 * One subscriber's open stream, in any wire format. Every write is a whole frame and is guarded: once
 * the peer is gone (EPIPE, ECONNRESET, socket destroyed mid-write) the session closes itself exactly
 * once and later writes are no-ops, so a vanished client can never throw into the fan-out loop.
 *
 * Until `goLive()` the session is replaying; live alarms that arrive meanwhile wait in a backlog and
 * are sent after the replay, skipping any the replay already delivered.
 *
 * A slow consumer is judged by whether it reads, not by how much was queued for it: bytes held in
 * Node beyond the cap are forgiven as long as the reader keeps taking some of them; a reader that takes
 * nothing for the grace period is dropped, and so is one whose queue passes a hard ceiling (4× the
 * cap plus one largest frame), which bounds memory whatever happens.
 */
export class StreamSession {
  readonly id = nextSessionId++;
  readonly principal: Principal;
  readonly visibility: Visibility;
  readonly format: StreamFormat;
  /** The client instance's id (X-Tocsin-Client), when it sent one. */
  readonly clientId: string | null;
  /** Replay and dedup position: every alarm up to this id was sent or is not for this stream. */
  lastId: string | null;
  /** The id of the last alarm this client was sent (or its own cursor): what `ready` reports. */
  cursor: string | null;
  readonly #res: ServerResponse;
  readonly #hooks: SessionHooks;
  #live = false;
  #closed = false;
  #backlog: { alarm: Alarm; frames: FrameSource }[] = [];
  #backlogBytes = 0;
  #prefix: string;
  /** Node's queue right after our last write: any later drop below it means the peer read. */
  #queuedAfterWrite = 0;
  /** Since when the queue has been over the cap with no progress (null: it is not). */
  #stalledSince: number | null = null;

  constructor(
    res: ServerResponse,
    init: {
      principal: Principal;
      visibility: Visibility;
      format: StreamFormat;
      after: string | null;
      clientId: string | null;
    },
    hooks: SessionHooks,
  ) {
    this.#res = res;
    this.principal = init.principal;
    this.visibility = init.visibility;
    this.format = init.format;
    this.lastId = init.after;
    this.cursor = init.after;
    this.clientId = init.clientId;
    this.#prefix = init.format.firstFramePrefix();
    this.#hooks = hooks;
    // Without an 'error' listener a failed write would crash the process: make it a routine close.
    res.on('error', (error) => this.close('write-error', undefined, error));
    res.on('close', () => this.close('client-closed'));
    res.on('drain', () => {
      this.#stalledSince = null;
      this.#queuedAfterWrite = 0;
    });
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

  /** Writes one complete frame. Returns false when the stream is closed or the socket wants a drain. */
  write(frame: string | Buffer): boolean {
    if (this.#closed) return false;
    const res = this.#res;
    if (res.writableEnded || res.destroyed) {
      this.close('client-closed');
      return false;
    }
    this.#observeProgress();
    let flushed: boolean;
    if (this.#prefix !== '') {
      const prefix = this.#prefix;
      this.#prefix = '';
      flushed = res.write(
        typeof frame === 'string' ? prefix + frame : Buffer.concat([Buffer.from(prefix), frame]),
      );
    } else {
      flushed = res.write(frame);
    }
    this.#queuedAfterWrite = res.writableLength;
    this.#hooks.onFrame();
    return this.#judge() && flushed;
  }

  #observeProgress(): void {
    if (this.#stalledSince !== null && this.#res.writableLength < this.#queuedAfterWrite) {
      // The reader took bytes since our last write: it is slow, not gone. A fresh grace period.
      this.#stalledSince = this.#hooks.now();
    }
  }

  /** Applies the slow-consumer rule; returns false when it closed the stream. */
  #judge(): boolean {
    const { maxBufferedBytes, maxFrameBytes, slowConsumerGraceMs, now } = this.#hooks;
    const queued = this.#res.writableLength + this.#backlogBytes;
    if (queued > 4 * maxBufferedBytes + maxFrameBytes) {
      this.close('slow-consumer');
      return false;
    }
    if (queued <= maxBufferedBytes) {
      this.#stalledSince = null;
      return true;
    }
    if (this.#stalledSince === null) {
      this.#stalledSince = now();
      return true;
    }
    if (now() - this.#stalledSince >= slowConsumerGraceMs) {
      this.close('slow-consumer');
      return false;
    }
    return true;
  }

  /**
   * Writes replayed alarms' frames (one buffer): `lastSent` is the last alarm in it, `through` the
   * last one replay looked at (later ones it skipped were not for this stream).
   */
  writeReplayed(lastSent: string, through: string, frames: Buffer): boolean {
    const ok = this.write(frames);
    this.cursor = lastSent;
    this.lastId = through;
    return ok;
  }

  /** Replay skipped alarms up to `through` that are not for this stream. */
  skipTo(through: string): void {
    this.lastId = through;
  }

  /** A live alarm from the fan-out. */
  deliver(alarm: Alarm, frames: FrameSource): void {
    if (this.#closed) return;
    if (!this.#live) {
      // Replay is waiting for this reader; what arrives meanwhile counts against it like its queue.
      this.#backlog.push({ alarm, frames });
      this.#backlogBytes += frames(this.format).length;
      this.#observeProgress();
      this.#judge();
      return;
    }
    if (this.lastId !== null && this.#hooks.compareIds(alarm.id, this.lastId) <= 0) return;
    this.write(frames(this.format));
    this.lastId = alarm.id;
    this.cursor = alarm.id;
  }

  /** Ends replay: sends the backlog the replay did not already cover, then delivers live. */
  goLive(): void {
    const backlog = this.#backlog;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.#live = true;
    for (const { alarm, frames } of backlog) this.deliver(alarm, frames);
  }

  /** Resolves once the socket drained its buffer, or the session closed. */
  drained(): Promise<void> {
    if (this.#closed || !this.#res.writableNeedDrain) return Promise.resolve();
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

  /** Closes once; a final frame (e.g. a `retry:` on shutdown) is written first when possible. */
  close(reason: DisconnectReason, finalFrame?: string | null, error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backlog = [];
    this.#backlogBytes = 0;
    const res = this.#res;
    if (reason === 'slow-consumer' || reason === 'write-error') {
      // Don't wait to flush megabytes to a peer that isn't reading: free the memory now.
      res.destroy();
    } else if (!res.writableEnded && !res.destroyed) {
      if (finalFrame !== undefined && finalFrame !== null) res.end(finalFrame);
      else res.end();
    }
    this.#hooks.onClose(this, reason, error);
  }
}
