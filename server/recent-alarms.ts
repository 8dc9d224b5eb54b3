import type { Alarm } from '../protocol/index.ts';
import { isVisible, type Visibility } from './store/store.ts';
import type { StreamFormat } from './stream-format.ts';

/** One alarm and its frames, each encoded when first needed and at most once per wire format. */
export class RecentAlarm {
  readonly alarm: Alarm;
  /** Told the size of each frame as it is encoded: the window's byte count follows what is held. */
  #counted: ((bytes: number) => void) | undefined;
  /** Most alarms are only ever encoded in one format: one slot, and a map only for the others. */
  #format: StreamFormat | undefined;
  #frame: Buffer | undefined;
  #others: Map<StreamFormat, Buffer> | undefined;
  constructor(alarm: Alarm, counted: (bytes: number) => void) {
    this.alarm = alarm;
    this.#counted = counted;
  }
  /** Arrow property: handed to every session as its FrameSource. */
  readonly frame = (format: StreamFormat): Buffer => {
    if (this.#format === format) return this.#frame as Buffer;
    let frame = this.#others?.get(format);
    if (frame === undefined) {
      frame = format.alarm(this.alarm);
      if (this.#format === undefined) {
        this.#format = format;
        this.#frame = frame;
      } else {
        this.#others ??= new Map();
        this.#others.set(format, frame);
      }
      this.#counted?.(frame.length);
    }
    return frame;
  };
  /** Out of the window: frames a stream still encodes from it are no longer the window's memory. */
  evicted(): void {
    this.#counted = undefined;
  }
  /** The bytes of the frames it holds (all of them counted by the window as they were encoded). */
  get bytes(): number {
    let total = this.#frame?.length ?? 0;
    if (this.#others !== undefined) for (const frame of this.#others.values()) total += frame.length;
    return total;
  }
}

export interface RecentAlarmsLimits {
  readonly maxAlarms: number;
  readonly maxBytes: number;
}

/** A page of replay served from memory: the frames of the visible alarms, and where it stopped. */
export interface WindowPage {
  readonly frames: Buffer[];
  readonly bytes: number;
  /** The id of the last alarm looked at (visible or not): the next page starts after it. */
  readonly through: string | null;
  /** The id of the last alarm in `frames`. */
  readonly lastSent: string | null;
  readonly done: boolean;
}

/**
 * The newest alarms, in id order, with their encoded frames: a reconnect storm replays from here
 * instead of reading and encoding the same rows once per stream. The window is complete after its
 * floor: it holds every alarm with an id above `floor` up to the newest it saw. A cursor inside it
 * is served from memory; anything older goes to the store.
 *
 * It is fed by the store's fan-out (every alarm, every instance, in id order) and becomes usable once
 * `start(newestId)` tells it where the store stood when it began listening.
 */
export class RecentAlarms {
  readonly #limits: RecentAlarmsLimits;
  readonly #compare: (a: string, b: string) => number;
  #entries: RecentAlarm[] = [];
  /** Index of the first live entry in #entries (evicted ones are dropped in batches). */
  #head = 0;
  #bytes = 0;
  /** undefined: not started yet (nothing can be served); null: complete from the very first alarm. */
  #floor: string | null | undefined = undefined;

  constructor(limits: RecentAlarmsLimits, compareIds: (a: string, b: string) => number) {
    this.#limits = limits;
    this.#compare = compareIds;
  }

  /** The store's newest id when listening began (null: the store was empty). */
  start(newestId: string | null): void {
    this.#floor = newestId;
    if (newestId !== null) {
      while (
        this.#head < this.#entries.length &&
        this.#compare(this.#at(this.#head).alarm.id, newestId) <= 0
      ) {
        this.#evictOne();
      }
    }
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Bound once: every entry reports its frames' sizes here. */
  readonly #count = (bytes: number): void => {
    this.#bytes += bytes;
  };

  /** Adds a stored alarm (from the fan-out, in id order) and returns its entry. */
  add(alarm: Alarm): RecentAlarm {
    const entry = new RecentAlarm(alarm, this.#count);
    this.#entries.push(entry);
    return entry;
  }

  /**
   * Called after the fan-out wrote an entry's frames: evicts past the limits. Frames are encoded when
   * a stream first needs them (the fan-out, or a replay), not here: an alarm nobody is connected for
   * costs no encoding until someone replays it.
   */
  settle(): void {
    while (this.size > this.#limits.maxAlarms || (this.#bytes > this.#limits.maxBytes && this.size > 1)) {
      this.#evictOne();
    }
  }

  /** Forgets alarms older than `time` (retention removed them from the store too). */
  dropOlderThan(time: number): void {
    while (this.size > 0 && this.#at(this.#head).alarm.time < time) this.#evictOne();
  }

  #at(index: number): RecentAlarm {
    return this.#entries[index] as RecentAlarm;
  }

  #evictOne(): void {
    const entry = this.#at(this.#head);
    this.#head++;
    this.#bytes -= entry.bytes;
    entry.evicted();
    if (this.#floor !== undefined) this.#floor = entry.alarm.id;
    // Compact now and then so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The newest id the window saw, or undefined when it holds none. */
  #newest(): string | undefined {
    return this.size === 0 ? undefined : this.#at(this.#entries.length - 1).alarm.id;
  }

  /**
   * Whether every alarm after `after` is in the window. A replay from the very first alarm (null)
   * always reads the store: only the store can tell what it still holds after a reset of its data,
   * and reconnect storms carry cursors anyway.
   */
  covers(after: string | null): boolean {
    const floor = this.#floor;
    if (floor === undefined || after === null) return false;
    if (floor !== null && this.#compare(after, floor) < 0) return false;
    const newest = this.#newest() ?? floor;
    // Newer than anything this instance has seen: maybe not fanned out here yet; ask the store.
    return newest !== null && this.#compare(after, newest) <= 0;
  }

  /** Index in #entries of the first entry with an id above `after`. */
  #indexAfter(after: string | null): number {
    if (after === null) return this.#head;
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(this.#at(mid).alarm.id, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Up to about `maxBytes` of the frames of alarms after `after` that `who` may see (at least one
   * frame when there is one, however large). Call only when covers(after).
   */
  page(after: string | null, who: Visibility, format: StreamFormat, maxBytes: number): WindowPage {
    const frames: Buffer[] = [];
    let bytes = 0;
    let through = after;
    let lastSent: string | null = null;
    let i = this.#indexAfter(after);
    for (; i < this.#entries.length; i++) {
      if (bytes >= maxBytes) break;
      const entry = this.#at(i);
      through = entry.alarm.id;
      if (!isVisible(entry.alarm, who)) continue;
      const frame = entry.frame(format);
      frames.push(frame);
      bytes += frame.length;
      lastSent = entry.alarm.id;
    }
    return { frames, bytes, through, lastSent, done: i >= this.#entries.length };
  }
}
