import type { GapEvent } from '../protocol/index.ts';
import type { SseSession } from './session.ts';
import { encodeEvent } from './sse.ts';
import type { AlarmStore } from './store/store.ts';

/**
 * Brings a new stream up to date: a `gap` first when the store can no longer prove it holds
 * everything after the client's cursor, then every visible alarm after it, page by page, waiting for
 * the socket to drain between pages so a long replay never buffers the whole history in memory.
 */
export async function replay(store: AlarmStore, session: SseSession, pageSize: number): Promise<void> {
  const requested = session.lastId;
  if (requested !== null) {
    const check = await store.checkCursor(requested);
    if (check.kind !== 'complete') {
      const gap: GapEvent =
        check.kind === 'pruned'
          ? { reason: 'pruned', after: requested, through: check.through }
          : { reason: 'unknown', after: requested, through: null };
      session.write(encodeEvent('gap', JSON.stringify(gap)));
      // An id from another sequence means nothing here: replay all that is retained.
      if (check.kind === 'unknown') session.lastId = null;
    }
  }
  for (;;) {
    if (session.closed) return;
    const page = await store.read(session.lastId, session.visibility, pageSize);
    for (const alarm of page) {
      session.writeAlarm(alarm, encodeEvent('alarm', JSON.stringify(alarm), alarm.id));
    }
    if (page.length < pageSize) return;
    await session.drained();
  }
}
