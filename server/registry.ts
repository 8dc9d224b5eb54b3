import type { Alarm } from '../protocol/index.ts';
import type { DisconnectReason, SseSession } from './session.ts';
import { encodeEvent } from './sse.ts';

function addTo<K>(index: Map<K, Set<SseSession>>, key: K, session: SseSession): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(session);
}

function removeFrom<K>(index: Map<K, Set<SseSession>>, key: K, session: SseSession): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(session);
  if (set.size === 0) index.delete(key);
}

/**
 * The open streams of this instance, indexed by user and topic so that fan-out touches only the
 * sessions an alarm is for. Each alarm is encoded once and the same bytes go to every recipient.
 */
export class Registry {
  readonly #sessions = new Set<SseSession>();
  readonly #byUser = new Map<string, Set<SseSession>>();
  readonly #byTopic = new Map<string, Set<SseSession>>();
  /** Sessions that read every topic. */
  readonly #allTopics = new Set<SseSession>();
  readonly #perToken = new Map<string, number>();

  get size(): number {
    return this.#sessions.size;
  }

  streamsOf(tokenId: string): number {
    return this.#perToken.get(tokenId) ?? 0;
  }

  add(session: SseSession): void {
    this.#sessions.add(session);
    addTo(this.#byUser, session.visibility.user, session);
    if (session.visibility.allTopics === true) this.#allTopics.add(session);
    else for (const topic of session.visibility.topics) addTo(this.#byTopic, topic, session);
    const tokenId = session.principal.tokenId;
    this.#perToken.set(tokenId, this.streamsOf(tokenId) + 1);
  }

  remove(session: SseSession): void {
    if (!this.#sessions.delete(session)) return;
    removeFrom(this.#byUser, session.visibility.user, session);
    this.#allTopics.delete(session);
    for (const topic of session.visibility.topics) removeFrom(this.#byTopic, topic, session);
    const tokenId = session.principal.tokenId;
    const left = this.streamsOf(tokenId) - 1;
    if (left > 0) this.#perToken.set(tokenId, left);
    else this.#perToken.delete(tokenId);
  }

  /** Sends an alarm to every open stream that may see it (see isVisible: user first, else topic). */
  broadcast(alarm: Alarm): void {
    let recipients: SseSession[];
    if (alarm.user !== undefined) {
      recipients = [...(this.#byUser.get(alarm.user) ?? [])];
    } else if (alarm.topic !== undefined) {
      recipients = [...(this.#byTopic.get(alarm.topic) ?? []), ...this.#allTopics];
    } else {
      return;
    }
    if (recipients.length === 0) return;
    const frame = Buffer.from(encodeEvent('alarm', JSON.stringify(alarm), alarm.id));
    // A copy: a delivery can close a session, which removes it from the sets above.
    for (const session of recipients) session.deliver(alarm, frame);
  }

  tokenIds(): string[] {
    return [...this.#perToken.keys()];
  }

  /** Closes the streams an earlier connection of the same client left open. */
  replaceClient(tokenId: string, clientId: string): void {
    this.forEach((session) => {
      if (session.principal.tokenId === tokenId && session.clientId === clientId) session.close('replaced');
    });
  }

  closeToken(tokenId: string, reason: DisconnectReason): void {
    this.forEach((session) => {
      if (session.principal.tokenId === tokenId) session.close(reason);
    });
  }

  /** Bytes queued in this process for all open streams (kernel buffers not included). */
  bufferedBytes(): number {
    let total = 0;
    for (const session of this.#sessions) total += session.bufferedBytes;
    return total;
  }

  /** The open sessions now (a copy: closing one while iterating is safe). */
  snapshot(): SseSession[] {
    return [...this.#sessions];
  }

  forEach(fn: (session: SseSession) => void): void {
    for (const session of [...this.#sessions]) fn(session);
  }

  closeAll(reason: DisconnectReason, finalFrame?: string): void {
    this.forEach((session) => {
      session.close(reason, finalFrame);
    });
  }
}
