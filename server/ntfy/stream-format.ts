import type { StreamFormat } from '../stream-format.ts';
import { CONTENT_TYPES, controlEvent, encodeNtfyEvent, type NtfyFormat } from './encoders.ts';
import { alarmToNtfy } from './message.ts';
import { type NtfyFilter, passesFilter } from './subscribe-params.ts';

const EMPTY = Buffer.alloc(0);
/** Distinct (format, topics, filter) combinations kept; past this the cache starts over. */
const MAX_FORMATS = 1_000;

export interface NtfyFormatOptions {
  /** ntfy's keepalive interval; sent on the first heartbeat round at least this long after the last. */
  readonly keepaliveMs: number;
  /** The core's heartbeat interval (the rounds keepalives ride on). */
  readonly heartbeatMs: number;
  /** How long after its time an alarm is retained (ntfy's `expires`). */
  readonly expiresAfterMs: number;
}

/**
 * ntfy's live HTTP streams (/json, /sse, /raw) as formats of the shared stream core. An ntfy
 * subscriber sees only alarms on the topics it named that pass its filters, so the format is per
 * (wire format, topics, filter) — shared by every subscriber asking the same, so each alarm is still
 * encoded once for all of them — and answers an empty frame for an alarm that is not for them (a
 * user's alarm on another topic; a filtered-out one).
 */
export class NtfyStreamFormats {
  readonly #options: NtfyFormatOptions;
  readonly #formats = new Map<string, StreamFormat>();

  constructor(options: NtfyFormatOptions) {
    this.#options = options;
  }

  get(kind: NtfyFormat, topics: readonly string[], filter: NtfyFilter): StreamFormat {
    const key = JSON.stringify([kind, topics, filter]);
    let format = this.#formats.get(key);
    if (format === undefined) {
      if (this.#formats.size >= MAX_FORMATS) this.#formats.clear();
      format = this.#make(kind, topics, filter);
      this.#formats.set(key, format);
    }
    return format;
  }

  #make(kind: NtfyFormat, topics: readonly string[], filter: NtfyFilter): StreamFormat {
    const { keepaliveMs, heartbeatMs, expiresAfterMs } = this.#options;
    const wanted = new Set(topics);
    // Keepalives ride on the core's heartbeat rounds: one per round at most (the same bytes for
    // every stream of this format in that round), and only once keepaliveMs has passed.
    let lastRound = Number.NEGATIVE_INFINITY;
    let roundFrame = EMPTY;
    return {
      contentType: CONTENT_TYPES[kind],
      alarm(alarm) {
        if (alarm.topic === undefined || !wanted.has(alarm.topic)) return EMPTY;
        const message = alarmToNtfy(alarm, expiresAfterMs);
        return passesFilter(message, filter) ? Buffer.from(encodeNtfyEvent(kind, message)) : EMPTY;
      },
      opened: () => encodeNtfyEvent(kind, controlEvent('open', topics, Date.now())),
      ready: () => null,
      gap: () => null,
      heartbeat(now) {
        if (now === lastRound) return roundFrame;
        if (now - lastRound < keepaliveMs - heartbeatMs / 2) return EMPTY;
        lastRound = now;
        roundFrame = Buffer.from(encodeNtfyEvent(kind, controlEvent('keepalive', topics, now)));
        return roundFrame;
      },
      firstFramePrefix: () => '',
      shutdown: () => null,
    };
  }
}
