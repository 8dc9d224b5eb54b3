import type { VerifyResult } from './protocol.ts';

/**
 * The ids one stream received, in arrival order, in a growable Float64Array (ids may exceed 2^31: see alarm-id.ts): the storm
 * logs ~1k ids on each of 10k streams, which as JS arrays would cost several times the memory.
 */
export class IdLog {
  #ids = new Float64Array(64);
  #length = 0;

  push(id: number): void {
    if (this.#length === this.#ids.length) {
      const grown = new Float64Array(this.#ids.length * 2);
      grown.set(this.#ids);
      this.#ids = grown;
    }
    this.#ids[this.#length++] = id;
  }

  view(): Float64Array {
    return this.#ids.subarray(0, this.#length);
  }
}

export interface LogCheck {
  /** Expected ids missing below the highest id received: holes, never "not there yet". */
  lost: number;
  /** All expected ids arrived (else the stream was still catching up when checked). */
  complete: boolean;
  duplicates: number;
  unexpected: number;
  inOrder: boolean;
}

/**
 * Compares what a stream received with what it had to receive (`expected` ascending, unique). A
 * stream still catching up (replay is in id order) is judged on what it got so far: a hole below its
 * highest id is lost, the expected ids above it are only pending.
 */
export function checkLog(received: Float64Array, expected: readonly number[]): LogCheck {
  let inOrder = true;
  for (let i = 1; i < received.length; i++) {
    if ((received[i] as number) <= (received[i - 1] as number)) {
      inOrder = false;
      break;
    }
  }
  const got = inOrder ? received : Float64Array.from(received).sort();
  let lost = 0;
  let duplicates = 0;
  let unexpected = 0;
  const highest = got.length === 0 ? Number.NEGATIVE_INFINITY : (got[got.length - 1] as number);
  let pending = 0;
  let i = 0;
  let j = 0;
  while (i < got.length || j < expected.length) {
    const a = i < got.length ? (got[i] as number) : Number.POSITIVE_INFINITY;
    const e = j < expected.length ? (expected[j] as number) : Number.POSITIVE_INFINITY;
    if (a === e) {
      i++;
      j++;
    } else if (a < e) {
      if (i > 0 && got[i - 1] === a) duplicates++;
      else unexpected++;
      i++;
    } else {
      if (e < highest) lost++;
      else pending++;
      j++;
    }
  }
  return { lost, complete: pending === 0, duplicates, unexpected, inOrder };
}

/** Sums every stream's check (streams with no log yet are not counted). */
export function verifyLogs(logs: Iterable<IdLog | null>, expected: readonly number[]): VerifyResult {
  const result: VerifyResult = {
    streams: 0,
    delivered: 0,
    incomplete: 0,
    lost: 0,
    duplicates: 0,
    unexpected: 0,
    outOfOrder: 0,
  };
  for (const log of logs) {
    if (log === null) continue;
    const received = log.view();
    const check = checkLog(received, expected);
    result.streams++;
    result.delivered += received.length;
    result.lost += check.lost;
    if (!check.complete) result.incomplete++;
    result.duplicates += check.duplicates;
    result.unexpected += check.unexpected;
    if (!check.inOrder) result.outOfOrder++;
  }
  return result;
}
