import type { Alarm, CursorRequest, GapEvent } from '../protocol/index.ts';
import type { RecentAlarms } from './recent-alarms.ts';
import type { StreamSession } from './session.ts';
import type { AlarmStore } from './store/store.ts';

export interface ReplaySource {
  readonly store: AlarmStore;
  readonly recent: RecentAlarms;
  /** Alarms read from the store per page (cursors older than the window). */
  readonly pageSize: number;
  /** Bytes written per replay write; the socket is allowed to drain between writes. */
  readonly pageBytes: number;
}

/** Where replay starts, and the gap to announce first, if any. */
export interface ReplayStart {
  readonly after: string | null;
  readonly gap: GapEvent | null;
  /** False for a live-only stream: nothing to replay. */
  readonly replay: boolean;
}

/**
 * Turns a client's cursor request into a starting point. A cursor the store can't vouch for gets a
 * `gap` first: `pruned` when retention removed alarms after it, `unknown` when it is not from this
 * history (beyond the newest id, or the id exists with another time: a restored backup) — then
 * everything retained follows.
 */
export async function replayStart(
  source: ReplaySource,
  cursor: CursorRequest,
  cursorTime: number | undefined,
): Promise<ReplayStart> {
  switch (cursor.kind) {
    case 'live':
      return { after: null, gap: null, replay: false };
    case 'all':
      return { after: null, gap: null, replay: true };
    case 'since-time': {
      const after = await source.store.cursorBefore(cursor.time);
      return { after, gap: null, replay: true };
    }
    case 'after': {
      // Always the store's word (one small query): it alone knows of retention, a restored backup
      // or a reset of its data; the window only saves reading and encoding the alarms themselves.
      const check = await source.store.checkCursor(cursor.id, cursorTime);
      if (check.kind === 'complete') return { after: cursor.id, gap: null, replay: true };
      if (check.kind === 'pruned') {
        return {
          after: cursor.id,
          gap: { reason: 'pruned', after: cursor.id, through: check.through },
          replay: true,
        };
      }
      return { after: null, gap: { reason: 'unknown', after: cursor.id, through: null }, replay: true };
    }
  }
}

/**
 * Brings a stream up to date from `session.lastId`: from the in-memory window while the cursor is
 * inside it (frames encoded once, one buffer per page), else page by page from the store. Each write
 * is bounded and the next waits for the socket to drain, so a replay never queues more than a page
 * beyond what the reader takes — a reader that takes nothing is dropped by the slow-consumer rule, a
 * slow one gets everything, and a single alarm larger than a page still goes out whole.
 */
export async function replay(source: ReplaySource, session: StreamSession): Promise<void> {
  const { store, recent, pageSize, pageBytes } = source;
  const format = session.format;
  for (;;) {
    if (session.closed) return;
    const after = session.lastId;
    if (recent.covers(after)) {
      const page = recent.page(after, session.visibility, format, pageBytes);
      if (page.through === null || page.through === after) return;
      let flushed = true;
      if (page.lastSent !== null) {
        flushed = session.writeReplayed(page.lastSent, page.through, Buffer.concat(page.frames, page.bytes));
      } else {
        session.skipTo(page.through);
      }
      if (page.done) return;
      if (!flushed) await session.drained();
      continue;
    }
    const alarms: Alarm[] = await store.read(after, session.visibility, pageSize);
    if (alarms.length === 0) return;
    let frames: Buffer[] = [];
    let bytes = 0;
    for (const alarm of alarms) {
      const frame = format.alarm(alarm);
      frames.push(frame);
      bytes += frame.length;
      if (bytes >= pageBytes) {
        const flushed = session.writeReplayed(alarm.id, alarm.id, Buffer.concat(frames, bytes));
        frames = [];
        bytes = 0;
        if (session.closed) return;
        if (!flushed) await session.drained();
      }
    }
    const last = alarms.at(-1) as Alarm;
    if (frames.length > 0) {
      const flushed = session.writeReplayed(last.id, last.id, Buffer.concat(frames, bytes));
      if (!flushed) await session.drained();
    }
    if (alarms.length < pageSize) return;
  }
}
