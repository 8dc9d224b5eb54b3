import type { EventName } from '../protocol/index.ts';

/**
 * SSE wire encoding (https://html.spec.whatwg.org/multipage/server-sent-events.html). Only `data`
 * ever carries client-supplied text, and every line break in it starts a new `data:` line, so a title
 * containing "\n\nevent: x" can never end a frame or forge a field. Event names and ids come from the
 * server alone and are checked to be single-line.
 */
const LINE_BREAK = /\r\n|\r|\n/;

function assertSingleLine(field: string, value: string): void {
  if (LINE_BREAK.test(value) || value.includes('\0')) {
    throw new TypeError(`SSE ${field} must be a single line`);
  }
}

export function encodeEvent(event: EventName, data: string, id?: string): string {
  assertSingleLine('event', event);
  let frame = `event: ${event}\n`;
  if (id !== undefined) {
    assertSingleLine('id', id);
    frame += `id: ${id}\n`;
  }
  for (const line of data.split(LINE_BREAK)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** A `retry:` field line, placed inside a frame (never alone: see StreamFormat.firstFramePrefix). */
export function encodeRetryField(ms: number): string {
  return `retry: ${Math.max(0, Math.trunc(ms))}\n`;
}

/**
 * A comment line: invisible to EventSource listeners, but bytes on the wire that keep proxies and
 * NATs awake. No blank line after it, so no parser dispatches an (empty) event for it.
 */
export const HEARTBEAT_FRAME = ': hb\n';
