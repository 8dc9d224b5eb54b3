/**
 * Alarm ids as numbers, for cheap ordering and logs. Tocsin's SQLite ids and the peers' are decimal
 * integers ("42"); its Redis ids are stream ids ("1764050000000-3": ms, then a sequence within the
 * ms). Those map to ms × 4096 + seq, which keeps their order and stays below 2^53 for centuries.
 * A stream id's sequence beyond 4095 within one millisecond is not expected at bench rates.
 */
const SEQ = 4096;

export function idToNumber(text: string): number {
  const dash = text.indexOf('-');
  if (dash === -1) return /^\d+$/.test(text) ? Number(text) : Number.NaN;
  const ms = text.slice(0, dash);
  const seq = text.slice(dash + 1);
  if (!/^\d+$/.test(ms) || !/^\d+$/.test(seq) || Number(seq) >= SEQ) return Number.NaN;
  return Number(ms) * SEQ + Number(seq);
}

/** The id text again (for Last-Event-ID): `dashed` when the server's ids are stream ids. */
export function numberToId(value: number, dashed: boolean): string {
  return dashed ? `${Math.floor(value / SEQ)}-${value % SEQ}` : String(value);
}

let dashedSeen = false;

/** Whether any id parsed so far was a stream id (`ms-seq`): then Last-Event-ID must be written so. */
export function dashedIdsSeen(): boolean {
  return dashedSeen;
}

/**
 * Parses an id from bytes at `start` (after `id:`, an optional space first); NaN if none. Returns a
 * plain number (no object per id: the storm parses ten million of them).
 */
export function parseIdBytes(buf: Uint8Array, start: number): number {
  let i = start;
  if (buf[i] === 0x20) i++;
  let ms = 0;
  let digits = 0;
  for (; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) break;
    ms = ms * 10 + (c - 0x30);
    digits++;
  }
  if (digits === 0) return Number.NaN;
  if (buf[i] !== 0x2d) return ms;
  dashedSeen = true;
  let seq = 0;
  let seqDigits = 0;
  for (i++; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + (c - 0x30);
    seqDigits++;
  }
  if (seqDigits === 0 || seq >= SEQ) return Number.NaN;
  return ms * SEQ + seq;
}
