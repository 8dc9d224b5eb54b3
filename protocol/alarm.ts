import { z } from 'zod';
import { isWebUrl } from './web-url.ts';

/** Names a topic or a user may have: ntfy's topic alphabet, so ntfy-style URLs keep working. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * An alarm id is opaque to clients but totally ordered by the server that issued it.
 * The SQLite store issues decimal integers ("42"); the Redis store issues stream ids ("1700000000000-0").
 */
export const ALARM_ID_PATTERN = /^[0-9]{1,20}(-[0-9]{1,20})?$/;

export const AlarmId = z.string().regex(ALARM_ID_PATTERN, 'an alarm id is digits, optionally "-" and digits');
export const Name = z.string().regex(NAME_PATTERN, 'use 1-64 letters, digits, "_" or "-"');
export const Priority = z.number().int().min(1).max(5);
export const DEFAULT_PRIORITY = 3;

export const MAX_TITLE_CHARS = 256;
export const MAX_TAGS = 16;
export const MAX_TAG_CHARS = 64;
export const MAX_URL_CHARS = 2048;

export const HttpUrl = z.string().max(MAX_URL_CHARS).refine(isWebUrl, 'url must be an absolute http(s) URL');

export const Tag = z.string().min(1).max(MAX_TAG_CHARS);

export const Alarm = z.object({
  id: AlarmId,
  /** Milliseconds since the Unix epoch, set by the server when the alarm was stored. */
  time: z.number().int().nonnegative(),
  user: Name.optional(),
  topic: Name.optional(),
  title: z.string().min(1).max(MAX_TITLE_CHARS),
  body: z.string().optional(),
  priority: Priority,
  url: HttpUrl.optional(),
  tags: z.array(Tag).max(MAX_TAGS),
});
export type Alarm = z.infer<typeof Alarm>;

/** What a publisher sends to `POST /v1/alarms`. The body's byte size is capped by server config. */
export const PublishRequest = z
  .object({
    user: Name.optional(),
    topic: Name.optional(),
    title: z.string().trim().min(1).max(MAX_TITLE_CHARS),
    body: z.string().optional(),
    priority: Priority.default(DEFAULT_PRIORITY),
    url: HttpUrl.optional(),
    tags: z.array(Tag).max(MAX_TAGS).default([]),
  })
  .strict()
  .refine((value) => value.user !== undefined || value.topic !== undefined, {
    message: 'address the alarm to a user, a topic, or both',
    path: ['user'],
  });
export type PublishRequest = z.infer<typeof PublishRequest>;

export const PublishResponse = z.object({ id: AlarmId, time: z.number().int() });
export type PublishResponse = z.infer<typeof PublishResponse>;

/** `GET /v1/alarms` answer: oldest first, at most `limit`; `next` is the cursor for the following page. */
export const HistoryResponse = z.object({
  alarms: z.array(Alarm),
  next: AlarmId.nullable(),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;
