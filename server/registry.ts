import type { Alarm } from '../protocol/index.ts';
import type { DisconnectReason, FrameSource, StreamSession } from './session.ts';

function addTo<K>(index: Map<K, Set<StreamSession>>, key: K, session: StreamSession): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(session);
}

function removeFrom<K>(index: Map<K, Set<StreamSession>>, key: K, session: StreamSession): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(session);
  if (set.size === 0) index.delete(key);
}

/** One client instance of one token: at most one open stream each (see replaceClient). */
function clientKey(tokenId: string, clientId: string): string {
  return `${tokenId}\u0000${clientId}`;
}

/**
 * The open streams of this instance and who owns them, indexed so that every operation touches only
 * the streams it is about: fan-out by user and topic, revocation by token, and a
 * reconnecting client's stale stream by (token, client id). Opening, replacing and revoking are
 * O(1) per stream, never a walk over every open stream.
 */
export class Registry {
  readonly #sessions = new Set<StreamSession>();
  readonly #byUser = new Map<string, Set<StreamSession>>();
  readonly #byTopic = new Map<string, Set<StreamSession>>();
  /** Sessions that read every topic. */
  readonly #allTopics = new Set<StreamSession>();
  readonly #byToken = new Map<string, Set<StreamSession>>();
  readonly #byClient = new Map<string, StreamSession>();

  get size(): number {
    return this.#sessions.size;
  }

  add(session: StreamSession): void {
    this.#sessions.add(session);
    addTo(this.#byUser, session.visibility.user, session);
    if (session.visibility.allTopics === true) this.#allTopics.add(session);
    else for (const topic of session.visibility.topics) addTo(this.#byTopic, topic, session);
    addTo(this.#byToken, session.principal.tokenId, session);
    if (session.clientId !== null)
      this.#byClient.set(clientKey(session.principal.tokenId, session.clientId), session);
  }

  remove(session: StreamSession): void {
    if (!this.#sessions.delete(session)) return;
    removeFrom(this.#byUser, session.visibility.user, session);
    this.#allTopics.delete(session);
    for (const topic of session.visibility.topics) removeFrom(this.#byTopic, topic, session);
    removeFrom(this.#byToken, session.principal.tokenId, session);
    if (session.clientId !== null) {
      const key = clientKey(session.principal.tokenId, session.clientId);
      if (this.#byClient.get(key) === session) this.#byClient.delete(key);
    }
  }

  /** Sends an alarm to every open stream that may see it (see isVisible: user first, else topic). */
  broadcast(alarm: Alarm, frames: FrameSource): void {
    let recipients: StreamSession[];
    if (alarm.user !== undefined) {
      recipients = [...(this.#byUser.get(alarm.user) ?? [])];
    } else if (alarm.topic !== undefined) {
      recipients = [...(this.#byTopic.get(alarm.topic) ?? []), ...this.#allTopics];
    } else {
      return;
    }
    // A copy: a delivery can close a session, which removes it from the sets above.
    for (const session of recipients) session.deliver(alarm, frames);
  }

  tokenIds(): string[] {
    return [...this.#byToken.keys()];
  }

  /** Closes the stream an earlier connection of the same client left open (a half-open one). */
  replaceClient(tokenId: string, clientId: string): void {
    this.#byClient.get(clientKey(tokenId, clientId))?.close('replaced');
  }

  closeToken(tokenId: string, reason: DisconnectReason): void {
    for (const session of [...(this.#byToken.get(tokenId) ?? [])]) session.close(reason);
  }

  /** Bytes queued in this process for all open streams (kernel buffers not included). */
  bufferedBytes(): number {
    let total = 0;
    for (const session of this.#sessions) total += session.bufferedBytes;
    return total;
  }

  /** The open sessions now (a copy: closing one while iterating is safe). */
  snapshot(): StreamSession[] {
    return [...this.#sessions];
  }

  closeAll(reason: DisconnectReason, finalFrame: (session: StreamSession) => string | null): void {
    for (const session of this.snapshot()) session.close(reason, finalFrame(session));
  }
}
