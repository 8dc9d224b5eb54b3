import type { FastifyRequest } from 'fastify';
import { CURSOR_TIME_HEADER, type CursorRequest, parseCursor } from '../protocol/index.ts';
import { HttpProblem } from './problem.ts';

const NAMES = { header: 'Last-Event-ID', lastEventId: '?lastEventId=', since: '?since=' } as const;

/**
 * The cursor a subscribe request carries (protocol/cursor.ts has the one rule every endpoint uses),
 * or a 400 naming the bad value and where it came from.
 */
export function cursorOf(
  request: FastifyRequest,
  parseId: (raw: string) => string | null,
  now: number,
): CursorRequest {
  const query = request.query as Record<string, unknown>;
  const header = request.headers['last-event-id'];
  const parsed = parseCursor(
    {
      header: typeof header === 'string' ? header : undefined,
      lastEventId: typeof query.lastEventId === 'string' ? query.lastEventId : undefined,
      since: typeof query.since === 'string' ? query.since : undefined,
    },
    parseId,
    now,
  );
  if (!parsed.ok) {
    throw new HttpProblem(
      'bad-last-event-id',
      `${NAMES[parsed.source]} "${parsed.raw.slice(0, 64)}" is not an alarm id of this server` +
        (parsed.source === 'since' ? ', "all", a duration (30s, 10m, 2h, 1d) or a Unix time in seconds' : ''),
    );
  }
  return parsed.cursor;
}

/** The client's record of the time of the alarm at its cursor (X-Tocsin-Cursor-Time), if it sent one. */
export function cursorTimeOf(request: FastifyRequest): number | undefined {
  const raw = request.headers[CURSOR_TIME_HEADER];
  if (typeof raw !== 'string' || !/^[0-9]{1,16}$/.test(raw)) return undefined;
  return Number(raw);
}
