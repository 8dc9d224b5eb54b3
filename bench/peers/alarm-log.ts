/**
 * The peers' alarm store: memory only (no durability: a restart loses everything, which is the
 * guarantee Tocsin's SQLite/Redis commit before the ack adds). Ids increase from 1, like Tocsin's,
 * and the JSON has Tocsin's shape and field order, so every server sends the same bytes per alarm.
 */

export interface PeerAlarm {
  topic: string;
  title: string;
  body?: string;
  priority: number;
  tags: string[];
  id: string;
  time: number;
}

export type NewPeerAlarm = Omit<PeerAlarm, 'id' | 'time'>;

/** As many as Tocsin keeps by default (--retention-count 100000). */
const CAPACITY = 100_000;

export class AlarmLog {
  #alarms: PeerAlarm[] = [];
  #nextId = 1;

  append(input: NewPeerAlarm, now: number): PeerAlarm {
    const alarm: PeerAlarm = { ...input, id: String(this.#nextId++), time: now };
    this.#alarms.push(alarm);
    if (this.#alarms.length > CAPACITY * 1.5) this.#alarms = this.#alarms.slice(-CAPACITY);
    return alarm;
  }

  /** Alarms on `topics` after `lastId` (a Last-Event-ID), oldest first. */
  after(lastId: string | undefined, topics: ReadonlySet<string>): PeerAlarm[] {
    const after = lastId === undefined || !/^\d+$/.test(lastId) ? Number.POSITIVE_INFINITY : Number(lastId);
    if (after === Number.POSITIVE_INFINITY) return [];
    const alarms = this.#alarms;
    // Ids are dense and increasing: binary search for the first id > after.
    let lo = 0;
    let hi = alarms.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Number((alarms[mid] as PeerAlarm).id) <= after) lo = mid + 1;
      else hi = mid;
    }
    return alarms.slice(lo).filter((a) => topics.has(a.topic));
  }

  get lastId(): string | null {
    return this.#alarms.at(-1)?.id ?? null;
  }
}
