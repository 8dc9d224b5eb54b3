import { type CursorRequest, NAME_PATTERN, parseCursor } from '../../protocol/index.ts';
import { HttpProblem } from '../problem.ts';
import type { NtfyMessage } from './message.ts';
import { type Headers, ntfyBool, type Query, readParam } from './params.ts';
import { ntfyPriority, RESERVED_TOPICS } from './priority.ts';

/** What ntfy's subscribe endpoints read from a request (server.go: parseSubscribeParams). */
export interface NtfySubscribeParams {
  readonly topics: readonly string[];
  /** Answer with what is stored and close (`poll=1`). */
  readonly poll: boolean;
  readonly cursor: CursorRequest;
  /** ntfy's since=latest: only the newest stored message of each topic. */
  readonly latest: boolean;
  /** Include pending scheduled messages (`scheduled=1`). */
  readonly scheduled: boolean;
  readonly filter: NtfyFilter;
}

export interface NtfyFilter {
  readonly id?: string;
  readonly message?: string;
  readonly title?: string;
  readonly priorities: readonly number[];
  readonly tags: readonly string[];
}

// Go's time.ParseDuration forms (ntfy's since=1h30m); the cursor rule covers 30s/10m/2h/1d.
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/;
const GO_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const GO_UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** `a,b,c` from the path: each a topic name, none of Tocsin's own paths. */
export function topicsFromPath(raw: string): string[] {
  const topics = [...new Set(raw.split(','))];
  for (const topic of topics) {
    if (!NAME_PATTERN.test(topic) || RESERVED_TOPICS.has(topic)) {
      throw new HttpProblem(
        'not-found',
        `"${topic.slice(0, 64)}" is not a topic (use 1-64 letters, digits, "_" or "-")`,
      );
    }
  }
  return topics;
}

export function parseSubscribeParams(
  rawTopics: string,
  headers: Headers,
  query: Query,
  parseId: (raw: string) => string | null,
  now: number,
): NtfySubscribeParams {
  const topics = topicsFromPath(rawTopics);
  const poll = ntfyBool(readParam(headers, query, ['x-poll', 'poll', 'po']), false);
  const scheduled = ntfyBool(readParam(headers, query, ['x-scheduled', 'scheduled', 'sched']), false);
  const since = readParam(headers, query, ['x-since', 'since', 'si']);
  const lastEventId = headers['last-event-id'];
  const latest = since === 'latest' && (typeof lastEventId !== 'string' || lastEventId.trim() === '');
  return {
    topics,
    poll,
    scheduled,
    latest,
    cursor: latest
      ? { kind: 'all' }
      : sinceCursor(since, typeof lastEventId === 'string' ? lastEventId : undefined, poll, parseId, now),
    filter: parseFilter(headers, query),
  };
}

/**
 * ntfy's since= (server.go: parseSince) through Tocsin's one cursor rule: `all`, `none`, a unix time,
 * a duration, or an alarm id; nothing means live only, except for a poll, which means everything.
 * EventSource's Last-Event-ID (the id of the last message it got) resumes after that message.
 */
function sinceCursor(
  since: string | undefined,
  lastEventId: string | undefined,
  poll: boolean,
  parseId: (raw: string) => string | null,
  now: number,
): CursorRequest {
  if (lastEventId === undefined || lastEventId.trim() === '') {
    if (since === undefined) return poll ? { kind: 'all' } : { kind: 'live' };
    if (since === 'none') return { kind: 'live' };
    if (GO_DURATION.test(since) && !/^\d+[smhd]$/.test(since)) {
      let ms = 0;
      for (const [, value, unit] of since.matchAll(GO_PART))
        ms += Number(value) * (GO_UNIT_MS[unit as string] as number);
      return { kind: 'since-time', time: Math.max(0, now - Math.round(ms)) };
    }
  }
  const parsed = parseCursor({ header: lastEventId, since }, parseId, now);
  if (!parsed.ok) {
    throw new HttpProblem(
      'bad-request',
      `since="${parsed.raw.slice(0, 64)}" is not all, none, a unix time, a duration or a message id of this server`,
    );
  }
  return parsed.cursor;
}

function parseFilter(headers: Headers, query: Query): NtfyFilter {
  const priorities: number[] = [];
  for (const p of (readParam(headers, query, ['x-priority', 'priority', 'prio', 'p']) ?? '').split(',')) {
    if (p.trim() === '') continue;
    const priority = ntfyPriority(p);
    if (priority === null)
      throw new HttpProblem('bad-request', `priority filter "${p.slice(0, 32)}" is not a priority`);
    priorities.push(priority);
  }
  const tags = (readParam(headers, query, ['x-tags', 'tags', 'tag', 'ta']) ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const id = readParam(headers, query, ['x-id', 'id']);
  const message = readParam(headers, query, ['x-message', 'message', 'm']);
  const title = readParam(headers, query, ['x-title', 'title', 't']);
  return {
    ...(id !== undefined && { id }),
    ...(message !== undefined && { message }),
    ...(title !== undefined && { title }),
    priorities,
    tags,
  };
}

/** ntfy's queryFilter.Pass: exact id, message and title; priority in the list; all tags present. */
export function passesFilter(message: NtfyMessage, filter: NtfyFilter): boolean {
  if (filter.id !== undefined && message.id !== filter.id) return false;
  if (filter.message !== undefined && message.message !== filter.message) return false;
  if (filter.title !== undefined && (message.title ?? '') !== filter.title) return false;
  if (filter.priorities.length > 0 && !filter.priorities.includes(message.priority ?? 3)) return false;
  if (filter.tags.length > 0 && !filter.tags.every((t) => message.tags?.includes(t) === true)) return false;
  return true;
}
