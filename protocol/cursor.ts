/**
 * Where a new stream starts, as a client asks for it. One rule for every subscribe endpoint (the
 * native `/v1/stream` and ntfy's `/{topics}/json|sse|raw|ws`):
 *
 * - no cursor at all → live only: nothing is replayed (what browsers, polyfills and ntfy expect);
 * - `Last-Event-ID` header, else `?lastEventId=` (event-source-polyfill's default), else `?since=`;
 *   the first one present and non-empty wins;
 * - `since=all` → everything retained;
 * - `since=<duration>` (`30s`, `10m`, `2h`, `1d`) → alarms stored within that long before now;
 * - `since=<unix seconds>` (a bare number of 10 or more digits, ntfy's rule) → alarms stored at or
 *   after that time;
 * - anything else is an alarm id (decimal for SQLite, `ms-seq` for Redis) → alarms after it.
 *
 * `Last-Event-ID` and `lastEventId` only ever carry ids (that is what EventSource echoes back).
 */
export type CursorRequest =
  | { readonly kind: 'live' }
  | { readonly kind: 'all' }
  | { readonly kind: 'after'; readonly id: string }
  | { readonly kind: 'since-time'; readonly time: number };

export type CursorSource = 'header' | 'lastEventId' | 'since';

export interface CursorInputs {
  readonly header?: string | undefined;
  readonly lastEventId?: string | undefined;
  readonly since?: string | undefined;
}

const DURATION = /^([0-9]{1,9})(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const UNIX_SECONDS = /^[0-9]{10,12}$/;

export type CursorParse =
  | { readonly ok: true; readonly cursor: CursorRequest; readonly source: CursorSource | null }
  | { readonly ok: false; readonly source: CursorSource; readonly raw: string };

/**
 * Reads the cursor a client sent. `parseId` is the store's own id parser (null: not one of its ids).
 * `now` is the wall clock in ms (durations are relative to it).
 */
export function parseCursor(
  inputs: CursorInputs,
  parseId: (raw: string) => string | null,
  now: number,
): CursorParse {
  const candidates: [CursorSource, string | undefined][] = [
    ['header', inputs.header],
    ['lastEventId', inputs.lastEventId],
    ['since', inputs.since],
  ];
  for (const [source, value] of candidates) {
    if (value === undefined) continue;
    const raw = value.trim();
    if (raw === '') continue;
    if (source === 'since') {
      if (raw === 'all') return { ok: true, cursor: { kind: 'all' }, source };
      const duration = DURATION.exec(raw);
      if (duration !== null) {
        const ms = Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
        return { ok: true, cursor: { kind: 'since-time', time: Math.max(0, now - ms) }, source };
      }
      if (UNIX_SECONDS.test(raw))
        return { ok: true, cursor: { kind: 'since-time', time: Number(raw) * 1000 }, source };
    }
    const id = parseId(raw);
    if (id === null) return { ok: false, source, raw };
    return { ok: true, cursor: { kind: 'after', id }, source };
  }
  return { ok: true, cursor: { kind: 'live' }, source: null };
}
