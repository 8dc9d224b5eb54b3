import type { Alarm, ScheduledAlarm, Scope } from '../../protocol/index.ts';

/** An alarm as accepted from a publisher, before the store gives it an id and a time. */
export type NewAlarm = Omit<Alarm, 'id' | 'time'>;

/** Which alarms one subscriber may see: its user's, and those on the topics it asked for and may read. */
export interface Visibility {
  readonly user: string;
  readonly topics: readonly string[];
  /** Every topic (`?topics=*` with a token that may read any topic); `topics` is then ignored. */
  readonly allTopics?: boolean;
}

export function isVisible(alarm: Alarm, who: Visibility): boolean {
  if (alarm.user !== undefined) return alarm.user === who.user;
  return alarm.topic !== undefined && (who.allTopics === true || who.topics.includes(alarm.topic));
}

/** What the store can still prove about the alarms after a client's cursor. */
export type CursorCheck =
  | { readonly kind: 'complete' }
  /** Retention removed alarms in (cursor, through]; the client may have missed some of them. */
  | { readonly kind: 'pruned'; readonly through: string }
  /** Not an id this store ever issued (newer than its sequence): its data was reset or it is another store. */
  | { readonly kind: 'unknown' };

export type StoreHealth = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export type StoreErrorCode = 'unavailable' | 'closed' | 'corrupt';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export type AlarmListener = (alarm: Alarm) => void;

/**
 * The durable, ordered alarm log and its fan-out source: one contract for every backend (the Mercure
 * transport idea). `append` resolves only once the alarm is durable; listeners then see every alarm,
 * on every instance sharing the backend, in id order.
 */
export interface AlarmStore {
  readonly kind: string;
  /** Stable identity of this store's id sequence (changes if the data is reset). */
  storeId(): string;
  append(alarm: NewAlarm): Promise<Alarm>;
  /** Alarms after `after` (null: from the oldest retained) that `who` may see, oldest first. */
  read(after: string | null, who: Visibility, limit: number): Promise<Alarm[]>;
  /**
   * What the store can prove about the alarms after a client's cursor. `time`, when the client sent
   * it, is the time of the alarm it saw under that id: a stored alarm with that id and another time
   * means the history was rolled back (a restored backup reissues ids) → `unknown`.
   */
  checkCursor(after: string, time?: number): Promise<CursorCheck>;
  /** The id of the newest alarm stored before `time` (ms), or null when none is retained. */
  cursorBefore(time: number): Promise<string | null>;
  /** The newest id this store issued that is still retained, or null when it holds none. */
  newestId(): Promise<string | null>;
  /** The canonical id for a client-supplied one, or null when it cannot be an id of this store. */
  parseId(raw: string): string | null;
  compareIds(a: string, b: string): number;
  subscribe(listener: AlarmListener): () => void;
  /** Applies retention; returns how many alarms were removed. */
  prune(now: number): Promise<number>;
  /**
   * Scheduled delivery: keeps the alarm aside, durably, until `deliverAt`. It is in no history and
   * reaches no listener before `releaseDue` moves it into the log.
   */
  schedule(alarm: NewAlarm, deliverAt: number, now: number): Promise<ScheduledAlarm>;
  /** Pending scheduled alarms `who` may see, soonest first. */
  listScheduled(who: Visibility, limit: number): Promise<ScheduledAlarm[]>;
  /**
   * Appends every scheduled alarm due at `now` (at most `limit`) to the log, each exactly once even
   * when several instances release at the same moment, atomically with its removal from the schedule
   * (a crash leaves it either pending or delivered, never both or neither). Returns how many.
   */
  releaseDue(now: number, limit: number): Promise<number>;
  health(): StoreHealth;
  close(): Promise<void>;
}

export interface TokenRecord {
  readonly id: string;
  readonly user: string;
  readonly scope: Scope;
  /** Topics this token may use; null means any topic. */
  readonly topics: readonly string[] | null;
  /**
   * Least privilege for services: users (names, or patterns with `*`) a publish token may address
   * besides its own user. Absent or null: its own user only (admin tokens address anyone).
   */
  readonly recipients?: readonly string[] | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** sha256 of the token's secret part; the secret itself is never stored. */
  readonly secretHash: Buffer;
}

export interface TokenStore {
  insert(record: TokenRecord): Promise<void>;
  get(id: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string, at: number): Promise<boolean>;
  /** Ids of tokens revoked at or after `since` (ms), by any process sharing this store. */
  revokedSince(since: number): Promise<string[]>;
  count(): Promise<number>;
}
