/**
 * Redis stream ids ("<ms>-<seq>", both unsigned 64-bit) are the Redis store's alarm ids and the SSE
 * event ids. Canonical form: decimal without leading zeros, which is what Redis itself returns.
 */

const STREAM_ID = /^([0-9]{1,20})-([0-9]{1,20})$/;
const U64_MAX = (1n << 64n) - 1n;

/** The canonical id for a client-supplied one, or null when Redis could not have issued it. */
export function parseStreamId(raw: string): string | null {
  const match = STREAM_ID.exec(raw);
  if (match === null) return null;
  const ms = BigInt(match[1] as string);
  const seq = BigInt(match[2] as string);
  if (ms > U64_MAX || seq > U64_MAX) return null;
  return `${ms}-${seq}`;
}

/** Canonical decimals compare by length, then lexically: exact for any size, no BigInt per call. */
function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders canonical stream ids as Redis does: milliseconds, then sequence, both numerically. */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  return compareDecimal(a.slice(0, da), b.slice(0, db)) || compareDecimal(a.slice(da + 1), b.slice(db + 1));
}

/** The millisecond part of a stream id: the time Redis (or the injected clock) stored the alarm at. */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
