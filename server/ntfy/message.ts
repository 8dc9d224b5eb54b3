import type { Alarm, AlarmAction, ScheduledAlarm } from '../../protocol/index.ts';

/**
 * ntfy's message object (https://docs.ntfy.sh/subscribe/api/#json-message-format) for a Tocsin
 * alarm: times in seconds, the durable Tocsin id as `id`, the body as `message`. A title that is only
 * the topic (Tocsin's default when a publisher sent none) is left out, as ntfy would.
 */
export interface NtfyMessage {
  id: string;
  time: number;
  expires?: number;
  event: 'message';
  topic: string;
  message: string;
  title?: string;
  tags?: string[];
  priority?: number;
  click?: string;
  icon?: string;
  actions?: (AlarmAction & { id: string })[];
  attachment?: { name: string; url: string };
  content_type?: 'text/markdown';
}

export interface NtfyControlEvent {
  id: string;
  time: number;
  event: 'open' | 'keepalive';
  topic: string;
}

type Message = Omit<Alarm, 'id' | 'time'>;

export function toNtfyMessage(
  alarm: Message,
  id: string,
  timeMs: number,
  expiresAfterMs: number | null,
): NtfyMessage {
  const topic = alarm.topic ?? '';
  const hasTitle = alarm.body !== undefined && alarm.title !== topic;
  const message: NtfyMessage = {
    id,
    time: Math.floor(timeMs / 1000),
    ...(expiresAfterMs !== null && { expires: Math.floor((timeMs + expiresAfterMs) / 1000) }),
    event: 'message',
    topic,
    message: alarm.body ?? alarm.title,
  };
  if (hasTitle) message.title = alarm.title;
  if (alarm.tags.length > 0) message.tags = alarm.tags;
  message.priority = alarm.priority;
  if (alarm.url !== undefined) message.click = alarm.url;
  if (alarm.icon !== undefined) message.icon = alarm.icon;
  if (alarm.actions !== undefined) {
    message.actions = alarm.actions.map((action, i) => ({ id: `${id}-${i + 1}`, ...action }));
  }
  if (alarm.attachment !== undefined) message.attachment = alarm.attachment;
  if (alarm.markdown === true) message.content_type = 'text/markdown';
  return message;
}

export function alarmToNtfy(alarm: Alarm, expiresAfterMs: number | null): NtfyMessage {
  return toNtfyMessage(alarm, alarm.id, alarm.time, expiresAfterMs);
}

/** A pending scheduled alarm as ntfy lists it: its time is when it will go out. */
export function scheduledToNtfy(scheduled: ScheduledAlarm, expiresAfterMs: number | null): NtfyMessage {
  return toNtfyMessage(scheduled, scheduled.id, scheduled.deliverAt, expiresAfterMs);
}
