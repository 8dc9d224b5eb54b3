import type { Alarm, Scope } from '../../protocol/index.ts';
import { copyExtras } from './alarm-extras.ts';
import { streamIdTime } from './redis-ids.ts';
import { type NewAlarm, StoreError, type TokenRecord } from './store.ts';

/**
 * How alarms and tokens are laid out in Redis. An alarm's log entry holds its JSON without id and time:
 * the stream id is the id, and its millisecond part is the time, so they can never disagree.
 */

export function encodeAlarm(alarm: NewAlarm): string {
  return JSON.stringify({
    user: alarm.user,
    topic: alarm.topic,
    title: alarm.title,
    body: alarm.body,
    priority: alarm.priority,
    url: alarm.url,
    tags: alarm.tags,
    icon: alarm.icon,
    markdown: alarm.markdown,
    actions: alarm.actions,
    attachment: alarm.attachment,
  });
}

/** The same shape as the SQLite store returns: optional fields absent, not undefined. */
export function decodeAlarm(id: string, json: string): Alarm {
  let stored: NewAlarm;
  try {
    stored = JSON.parse(json) as NewAlarm;
  } catch (error) {
    throw new StoreError('corrupt', `alarm ${id} in Redis is not valid JSON`, { cause: error });
  }
  const alarm: Alarm = {
    id,
    time: streamIdTime(id),
    title: stored.title,
    priority: stored.priority,
    tags: stored.tags,
  };
  if (stored.user !== undefined) alarm.user = stored.user;
  if (stored.topic !== undefined) alarm.topic = stored.topic;
  if (stored.body !== undefined) alarm.body = stored.body;
  if (stored.url !== undefined) alarm.url = stored.url;
  copyExtras(stored, alarm);
  return alarm;
}

/** A token as the field/value pairs of its hash; '' stands for null (hash fields are strings). */
export function encodeToken(record: TokenRecord): string[] {
  return [
    'user',
    record.user,
    'scope',
    record.scope,
    'topics',
    record.topics === null ? '' : JSON.stringify(record.topics),
    'createdAt',
    String(record.createdAt),
    'revokedAt',
    record.revokedAt === null ? '' : String(record.revokedAt),
    'secretHash',
    record.secretHash.toString('hex'),
    'recipients',
    record.recipients === undefined || record.recipients === null ? '' : JSON.stringify(record.recipients),
  ];
}

export function decodeToken(id: string, hash: Record<string, string>): TokenRecord | undefined {
  if (hash.user === undefined || hash.scope === undefined || hash.secretHash === undefined) return undefined;
  return {
    id,
    user: hash.user,
    scope: hash.scope as Scope,
    topics: hash.topics === undefined || hash.topics === '' ? null : (JSON.parse(hash.topics) as string[]),
    createdAt: Number(hash.createdAt),
    revokedAt: hash.revokedAt === undefined || hash.revokedAt === '' ? null : Number(hash.revokedAt),
    secretHash: Buffer.from(hash.secretHash, 'hex'),
    ...(hash.recipients !== undefined &&
      hash.recipients !== '' && { recipients: JSON.parse(hash.recipients) as string[] }),
  };
}
