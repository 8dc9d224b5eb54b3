import { z } from 'zod';
import { hasControlChars } from './control-chars.ts';
import { isClickableUrl, isWebUrl } from './web-url.ts';

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

// `new URL()` silently drops tabs and newlines, so the raw string is checked for them first.
export const HttpUrl = z
  .string()
  .max(MAX_URL_CHARS)
  .refine((value) => !hasControlChars(value), 'url must not contain control characters')
  .refine(isWebUrl, 'url must be an absolute http(s) URL');

export const Tag = z.string().min(1).max(MAX_TAG_CHARS);

/**
 * A click target as ntfy accepts it: an absolute URL of any scheme (mailto:, geo:, app links…) but
 * never one that runs code or reads local files, and never with control characters (a newline in a
 * URL would forge a second line in a terminal). Which schemes a client actually opens is its own,
 * stricter decision (see isOpenableUrl).
 */
export const ClickUrl = z
  .string()
  .max(MAX_URL_CHARS)
  .refine((value) => !hasControlChars(value), 'url must not contain control characters')
  .refine(isClickableUrl, 'url must be an absolute URL; javascript:, data:, file: and vbscript: are refused');

export const MAX_ACTIONS = 3;
export const MAX_LABEL_CHARS = 64;
const ActionLabel = z
  .string()
  .min(1)
  .max(MAX_LABEL_CHARS)
  .refine((value) => !hasControlChars(value), 'label must not contain control characters');

/** ntfy's action buttons: `view` opens a URL, `http` sends a request, `broadcast` is Android-only. */
export const AlarmAction = z.discriminatedUnion('action', [
  z.object({ action: z.literal('view'), label: ActionLabel, url: ClickUrl, clear: z.boolean().optional() }),
  z.object({
    action: z.literal('http'),
    label: ActionLabel,
    url: HttpUrl,
    method: z
      .string()
      .regex(/^[A-Z]{1,16}$/)
      .optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().max(4096).optional(),
    clear: z.boolean().optional(),
  }),
  z.object({
    action: z.literal('broadcast'),
    label: ActionLabel,
    intent: z.string().max(256).optional(),
    extras: z.record(z.string(), z.string()).optional(),
    clear: z.boolean().optional(),
  }),
]);
export type AlarmAction = z.infer<typeof AlarmAction>;

/** An attachment by URL (Tocsin stores no uploads): ntfy's `Attach` and `Filename`. */
export const AlarmAttachment = z.object({
  url: HttpUrl,
  name: z.string().min(1).max(256),
});
export type AlarmAttachment = z.infer<typeof AlarmAttachment>;

export const Alarm = z.object({
  id: AlarmId,
  /** Milliseconds since the Unix epoch, set by the server when the alarm was stored. */
  time: z.number().int().nonnegative(),
  user: Name.optional(),
  topic: Name.optional(),
  title: z.string().min(1).max(MAX_TITLE_CHARS),
  body: z.string().optional(),
  priority: Priority,
  /** Where a click on the alarm leads (ntfy's `Click`). */
  url: ClickUrl.optional(),
  tags: z.array(Tag).max(MAX_TAGS),
  icon: HttpUrl.optional(),
  /** The body is Markdown (ntfy's `Markdown: yes`); clients that cannot render it show it as text. */
  markdown: z.boolean().optional(),
  actions: z.array(AlarmAction).max(MAX_ACTIONS).optional(),
  attachment: AlarmAttachment.optional(),
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
    url: ClickUrl.optional(),
    tags: z.array(Tag).max(MAX_TAGS).default([]),
    icon: HttpUrl.optional(),
    markdown: z.boolean().optional(),
    actions: z.array(AlarmAction).max(MAX_ACTIONS).optional(),
    attachment: AlarmAttachment.optional(),
    /**
     * Scheduled delivery: when (ms since the epoch) the alarm goes out. Until then it is not in the
     * history and no stream sees it; the server bounds how far ahead (ntfy: 10 s to 3 days).
     */
    deliverAt: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((value) => value.user !== undefined || value.topic !== undefined, {
    message: 'address the alarm to a user, a topic, or both',
    path: ['user'],
  });
export type PublishRequest = z.infer<typeof PublishRequest>;

/**
 * `id` is the alarm's durable id; a scheduled alarm has none yet, so it answers with its schedule
 * entry's id (`ScheduledId`) and the time it will go out.
 */
export const PublishResponse = z.object({
  id: z.string(),
  time: z.number().int(),
  scheduled: z.boolean().optional(),
});
export type PublishResponse = z.infer<typeof PublishResponse>;

/** A pending scheduled alarm's id: `s` and digits, never confused with a durable alarm id. */
export const SCHEDULED_ID_PATTERN = /^s[0-9]{1,20}$/;

/** An alarm waiting for its delivery time (ntfy's `?scheduled=1`). */
export const ScheduledAlarm = Alarm.omit({ id: true, time: true }).extend({
  id: z.string().regex(SCHEDULED_ID_PATTERN),
  /** When it was accepted (ms). */
  createdAt: z.number().int().nonnegative(),
  /** When it goes out (ms). */
  deliverAt: z.number().int().nonnegative(),
});
export type ScheduledAlarm = z.infer<typeof ScheduledAlarm>;

/** `GET /v1/alarms` answer: oldest first, at most `limit`; `next` is the cursor for the following page. */
export const HistoryResponse = z.object({
  alarms: z.array(Alarm),
  next: AlarmId.nullable(),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;
