import type { Alarm, GapEvent, ReadyEvent } from '../protocol/index.ts';
import { encodeEvent, encodeRetryField, HEARTBEAT_FRAME } from './sse.ts';

/**
 * How one kind of subscribe endpoint puts alarms on the wire. The stream lifecycle (open → replay →
 * live → close), backpressure, slow-consumer handling and fan-out are the same for every format; only
 * the bytes differ. Each format encodes an alarm once: the frame is cached per alarm and format (see
 * RecentAlarms) and the same bytes go to every stream of that format.
 */
export interface StreamFormat {
  /** Response headers besides the ones every stream gets (no-cache, no buffering by proxies). */
  readonly contentType: string;
  alarm(alarm: Alarm): Buffer;
  /** Written as soon as the stream opens (ntfy's `open` event), or null. */
  opened(): string | null;
  /** Written once replay is done and the stream is live, or null. */
  ready(event: ReadyEvent): string | null;
  /** Written before replay when the cursor is older than what the store can prove, or null. */
  gap(event: GapEvent): string | null;
  /** What keeps an idle stream alive; called once per heartbeat round. */
  heartbeat(now: number): Buffer;
  /**
   * Text placed before the first frame of the stream, inside it (SSE: the `retry:` field). A lone
   * `retry:` frame shows up as an empty message in some clients (fetch-event-source); inside the
   * first real frame it does not.
   */
  firstFramePrefix(): string;
  /** The last frame when this instance shuts down, or null. */
  shutdown(retryMs: number): string | null;
}

/**
 * Comment heartbeats end with a single newline: a comment line inside a not-yet-finished block
 * dispatches nothing in any parser, while ": hb\n\n" (a blank line) makes fetch-event-source and
 * extended-eventsource report an empty message.
 */
const HEARTBEAT_BYTES = Buffer.from(HEARTBEAT_FRAME);

/** Tocsin's native SSE stream (`GET /v1/stream`). */
export function sseFormat(retryMs: number): StreamFormat {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    alarm: (alarm) => Buffer.from(encodeEvent('alarm', JSON.stringify(alarm), alarm.id)),
    opened: () => null,
    ready: (event) => encodeEvent('ready', JSON.stringify(event)),
    gap: (event) => encodeEvent('gap', JSON.stringify(event)),
    heartbeat: () => HEARTBEAT_BYTES,
    firstFramePrefix: () => encodeRetryField(retryMs),
    shutdown: (ms) => encodeRetryField(ms),
  };
}
