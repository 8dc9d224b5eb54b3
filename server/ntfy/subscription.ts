import type { Alarm } from '../../protocol/index.ts';
import type { AlarmStore, Visibility } from '../store/store.ts';
import type { Principal } from '../tokens.ts';
import { controlEvent, type NtfyEvent } from './encoders.ts';
import { alarmToNtfy, scheduledToNtfy } from './message.ts';
import { type NtfySubscribeParams, passesFilter } from './subscribe-params.ts';

/** Where a subscription's events go: an HTTP response (json/sse/raw) or a WebSocket. */
export interface NtfySink {
  /** Sends one event; false once the sink is closed. */
  send(event: NtfyEvent): boolean;
  /** Bytes queued for the peer and not yet taken. */
  buffered(): number;
  /** Resolves once the peer took what was queued (or the sink closed). */
  drained(): Promise<void>;
  /** A keepalive in the sink's own terms (an event for HTTP, a ping for WebSocket). */
  keepalive(now: number): void;
  /** Ends the stream; `abort`: drop what is queued at once (a peer that stopped reading never takes it). */
  close(abort?: boolean): void;
}

export interface SubscriptionOptions {
  readonly store: AlarmStore;
  readonly principal: Principal;
  readonly visibility: Visibility;
  readonly params: NtfySubscribeParams;
  readonly sink: NtfySink;
  readonly pageSize: number;
  /** How long after its time an alarm is retained (ntfy's `expires`). */
  readonly expiresAfterMs: number;
  /**
   * Slow consumers: a live subscriber whose unread bytes stay above this for `slowConsumerGraceMs`
   * has stopped reading and is closed (it replays when it reconnects). A burst, or one large
   * message, reaching a reader that keeps reading is never a reason.
   */
  readonly maxBufferedBytes: number;
  readonly slowConsumerGraceMs: number;
  /** During replay, wait for the peer to take what is queued whenever it exceeds this. */
  readonly replayChunkBytes: number;
  readonly now: () => number;
}

/**
 * One ntfy subscriber, whatever the wire format: an `open` event, then the stored messages its
 * cursor asks for (and pending scheduled ones with `scheduled=1`), then live ones, each passing the
 * subscriber's filters and only on its topics; a poll stops after the stored ones. Live alarms that
 * arrive while the replay runs wait in a backlog and are sent after it, skipping any it already sent,
 * so nothing is lost or duplicated at the seam.
 */
export class NtfySubscription {
  readonly principal: Principal;
  readonly #o: SubscriptionOptions;
  readonly #topics: ReadonlySet<string>;
  #live = false;
  #closed = false;
  #lastId: string | null = null;
  #backlog: Alarm[] = [];
  /** Since when the sink has been over maxBufferedBytes (null: it is not). */
  #overSince: number | null = null;
  readonly #unsubscribe: () => void;
  #onClose: (() => void) | undefined;

  constructor(options: SubscriptionOptions) {
    this.#o = options;
    this.principal = options.principal;
    this.#topics = new Set(options.params.topics);
    this.#unsubscribe = options.params.poll
      ? () => {}
      : options.store.subscribe((alarm) => this.#onAlarm(alarm));
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(fn: () => void): void {
    this.#onClose = fn;
  }

  /** Runs the subscription until it is live (or, for a poll, done and closed). */
  async start(): Promise<void> {
    const { params, sink, now } = this.#o;
    if (!params.poll) sink.send(controlEvent('open', params.topics, now()));
    await this.#replay();
    if (this.#closed) return;
    if (params.scheduled) await this.#sendScheduled();
    if (params.poll) {
      this.close();
      return;
    }
    this.#live = true;
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const alarm of backlog) this.#onAlarm(alarm);
  }

  keepalive(): void {
    if (this.#closed || !this.#live) return;
    this.#o.sink.keepalive(this.#o.now());
    this.#checkReading();
  }

  /** Closes a live subscriber that has not taken its bytes for the grace period. */
  #checkReading(): void {
    const { sink, maxBufferedBytes, slowConsumerGraceMs, now } = this.#o;
    if (sink.buffered() <= maxBufferedBytes) {
      this.#overSince = null;
      return;
    }
    if (this.#overSince === null) this.#overSince = now();
    else if (now() - this.#overSince >= slowConsumerGraceMs) this.close(true);
  }

  close(abort = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backlog = [];
    this.#unsubscribe();
    this.#o.sink.close(abort);
    this.#onClose?.();
  }

  #mine(alarm: Alarm): boolean {
    if (alarm.topic === undefined || !this.#topics.has(alarm.topic)) return false;
    // A user's alarm is that user's alone, whatever its topic.
    return alarm.user === undefined || alarm.user === this.#o.visibility.user;
  }

  #onAlarm(alarm: Alarm): void {
    if (this.#closed || !this.#mine(alarm)) return;
    if (!this.#live) {
      this.#backlog.push(alarm);
      return;
    }
    if (this.#lastId !== null && this.#o.store.compareIds(alarm.id, this.#lastId) <= 0) return;
    this.#write(alarm);
  }

  #write(alarm: Alarm): void {
    this.#lastId = alarm.id;
    const message = alarmToNtfy(alarm, this.#o.expiresAfterMs);
    if (!passesFilter(message, this.#o.params.filter)) return;
    this.#o.sink.send(message);
    if (this.#live) this.#checkReading();
  }

  async #replay(): Promise<void> {
    const { store, visibility, params, pageSize } = this.#o;
    const cursor = params.cursor;
    if (cursor.kind === 'live') return;
    let after: string | null = null;
    if (cursor.kind === 'after') {
      // An id this store never issued (another store, or its data was reset): everything retained.
      after = (await store.checkCursor(cursor.id)).kind === 'unknown' ? null : cursor.id;
    }
    // Start just before the time asked for: the store finds the id, no need to read older alarms.
    if (cursor.kind === 'since-time') after = await store.cursorBefore(cursor.time);
    const since = cursor.kind === 'since-time' ? cursor.time : null;
    if (params.latest) {
      await this.#replayLatest();
      return;
    }
    for (;;) {
      if (this.#closed) return;
      const page = await store.read(after, visibility, pageSize);
      for (const alarm of page) {
        after = alarm.id;
        if (since !== null && alarm.time < since) continue;
        if (this.#mine(alarm)) this.#write(alarm);
        if (this.#closed) return;
        // Backpressure: write what the peer takes, never a whole page of large messages at once.
        if (this.#o.sink.buffered() > this.#o.replayChunkBytes) await this.#o.sink.drained();
      }
      if (page.length < pageSize) return;
    }
  }

  /** since=latest: the newest stored message of each topic (read through once, bounded by retention). */
  async #replayLatest(): Promise<void> {
    const { store, visibility, pageSize } = this.#o;
    const newest = new Map<string, Alarm>();
    let after: string | null = null;
    for (;;) {
      if (this.#closed) return;
      const page = await store.read(after, visibility, pageSize);
      for (const alarm of page) {
        after = alarm.id;
        if (this.#mine(alarm)) newest.set(alarm.topic as string, alarm);
      }
      if (page.length < pageSize) break;
    }
    const latest = [...newest.values()].sort((a, b) => store.compareIds(a.id, b.id));
    for (const alarm of latest) {
      if (this.#closed) return;
      this.#write(alarm);
    }
  }

  async #sendScheduled(): Promise<void> {
    const { store, visibility, params, sink, expiresAfterMs } = this.#o;
    for (const scheduled of await store.listScheduled(visibility, 1_000)) {
      if (this.#closed) return;
      if (scheduled.topic === undefined || !this.#topics.has(scheduled.topic)) continue;
      const message = scheduledToNtfy(scheduled, expiresAfterMs);
      if (passesFilter(message, params.filter)) sink.send(message);
    }
  }
}
