import { ALARM_ID_PATTERN } from '../../protocol/index.ts';
import type { NtfyControlEvent, NtfyMessage } from './message.ts';

export type NtfyEvent = NtfyMessage | NtfyControlEvent;

/** ntfy's wire formats for one event (server.go: handleSubscribeJSON, SSE, Raw). */
export type NtfyFormat = 'json' | 'sse' | 'raw';

export const CONTENT_TYPES: Record<NtfyFormat, string> = {
  json: 'application/x-ndjson; charset=utf-8',
  sse: 'text/event-stream; charset=utf-8',
  raw: 'text/plain; charset=utf-8',
};

/**
 * One event as its format's bytes. JSON.stringify never emits a raw line break, so one JSON value
 * is always exactly one line (NDJSON) and one `data:` line (SSE): no publisher text can forge a
 * frame. SSE message frames carry the alarm id as `id:`, so EventSource resumes after it.
 */
export function encodeNtfyEvent(format: NtfyFormat, event: NtfyEvent): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(event)}\n`;
    case 'sse':
      if (event.event !== 'message') return `event: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`;
      // Pending scheduled messages have no durable id yet: nothing to resume from.
      if (!ALARM_ID_PATTERN.test(event.id)) return `data: ${JSON.stringify(event)}\n\n`;
      return `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
    case 'raw':
      // ntfy's raw stream: one line per message, line breaks as spaces; open and keepalive are empty lines.
      return event.event === 'message' ? `${event.message.replace(/\r\n|\r|\n/g, ' ')}\n` : '\n';
  }
}

export function controlEvent(
  kind: 'open' | 'keepalive',
  topics: readonly string[],
  now: number,
): NtfyControlEvent {
  return {
    id: `${kind}-${now.toString(36)}`,
    time: Math.floor(now / 1000),
    event: kind,
    topic: topics.join(','),
  };
}
