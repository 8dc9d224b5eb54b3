/**
 * Just enough of an SSE reader for load generation: finds `id:` lines (the alarm ids), `event: ready`
 * and `event: gap`, and counts heartbeat comments, without decoding the stream to strings. A load
 * worker holds thousands of streams and the reconnect storm moves gigabytes, so the scan uses
 * Buffer.indexOf (native memchr-like) per pattern and only looks at bytes near a match.
 *
 * It sees body bytes only: the worker takes HTTP/1.1 chunked framing out first (dechunk.ts), since a
 * proxy may split a chunk anywhere, even inside an `id:` line.
 */

import { parseIdBytes } from './alarm-id.ts';

const NL = 0x0a;
const ID_LINE = Buffer.from('\nid:');
const READY_TAIL = Buffer.from('ready\n');
const GAP_TAIL = Buffer.from('gap\n');
const COMMENT_LINE = Buffer.from('\n:');
/** Only a line's first bytes matter (field name, an id's digits): a partial line is kept up to this. */
const CARRY_MAX = 64;
const EMPTY = Buffer.alloc(0);

export interface ScanEvents {
  onId(id: number): void;
  onReady(): void;
  onGap(): void;
}

export interface ScanState {
  /** Bytes after the last line break seen, truncated to CARRY_MAX (a line start or empty). */
  carry: Buffer;
  ready: boolean;
  heartbeats: number;
}

export function newScanState(): ScanState {
  return { carry: EMPTY, ready: false, heartbeats: 0 };
}

/** Is the line from `lineStart` up to `tailStart` exactly `event:` (optionally with its space)? */
function isEventLine(buf: Buffer, tailStart: number, lineStart: number): boolean {
  const prefix = buf.toString('latin1', lineStart, tailStart);
  return prefix === 'event:' || prefix === 'event: ';
}

/** One complete line (without its `\n`). */
function scanLine(line: Buffer, state: ScanState, events: ScanEvents): void {
  if (line.length >= 3 && line[0] === 0x69 && line[1] === 0x64 && line[2] === 0x3a) {
    const id = parseIdBytes(line, 3);
    if (!Number.isNaN(id)) events.onId(id);
  } else if (line[0] === 0x3a) {
    state.heartbeats++;
  } else if (!state.ready && line[0] === 0x65) {
    const text = line.toString('latin1').trimEnd();
    if (text === 'event: ready' || text === 'event:ready') {
      state.ready = true;
      events.onReady();
    } else if (text === 'event: gap' || text === 'event:gap') events.onGap();
  }
}

/** Feeds body bytes of one stream. */
export function scan(chunk: Buffer, state: ScanState, events: ScanEvents): void {
  const first = chunk.indexOf(NL);
  if (first === -1) {
    if (state.carry.length < CARRY_MAX) {
      state.carry = Buffer.concat([state.carry, chunk.subarray(0, CARRY_MAX - state.carry.length)]);
    }
    return;
  }
  // The line that straddles the previous chunk and this one.
  scanLine(
    state.carry.length === 0
      ? chunk.subarray(0, first)
      : Buffer.concat([state.carry, chunk.subarray(0, first)]),
    state,
    events,
  );
  const last = chunk.lastIndexOf(NL);
  // Every other complete line starts right after a `\n` in [first, last).
  for (let at = chunk.indexOf(ID_LINE, first); at !== -1 && at < last; at = chunk.indexOf(ID_LINE, at + 4)) {
    const id = parseIdBytes(chunk, at + 4);
    if (!Number.isNaN(id)) events.onId(id);
  }
  for (
    let at = chunk.indexOf(COMMENT_LINE, first);
    at !== -1 && at < last;
    at = chunk.indexOf(COMMENT_LINE, at + 2)
  ) {
    state.heartbeats++;
  }
  if (!state.ready) {
    // Both tails end in `\n`, so every match lies in a complete line after the straddling one.
    for (let at = chunk.indexOf(GAP_TAIL, first); at !== -1; at = chunk.indexOf(GAP_TAIL, at + 4)) {
      if (isEventLine(chunk, at, chunk.lastIndexOf(NL, at) + 1)) events.onGap();
    }
    const at = chunk.indexOf(READY_TAIL, first);
    if (at !== -1 && isEventLine(chunk, at, chunk.lastIndexOf(NL, at) + 1)) {
      state.ready = true;
      events.onReady();
    }
  }
  const rest = chunk.subarray(last + 1, Math.min(chunk.length, last + 1 + CARRY_MAX));
  state.carry = rest.length === 0 ? EMPTY : Buffer.from(rest);
}
