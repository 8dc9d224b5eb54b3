/**
 * Reconnect timing, as pure functions: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"), the server's `retry:` as the unit, and Retry-After as a floor.
 */

export interface BackoffPolicy {
  /** The unit of the exponential when the server announced no `retry:`. */
  readonly baseMs: number;
  /** No wait ever exceeds this, except a longer Retry-After the server asked for. */
  readonly capMs: number;
  /** A live period at least this long counts as stable: the next failure starts again at attempt 0. */
  readonly stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, stableAfterMs: 30_000 };

export interface DelayInput {
  /** 0 for the first reconnect after a failure, then 1, 2, ... */
  readonly attempt: number;
  /** The last `retry:` the server sent, if any. */
  readonly serverRetryMs?: number | undefined;
  /** From a 429/503 Retry-After header. */
  readonly retryAfterMs?: number | undefined;
}

/** The exponential ceiling for an attempt: unit × 2^attempt, capped. */
export function backoffCeiling(
  policy: BackoffPolicy,
  input: Pick<DelayInput, 'attempt' | 'serverRetryMs'>,
): number {
  const unit = Math.max(1, input.serverRetryMs ?? policy.baseMs);
  // 2^attempt overflows to Infinity long after it passed the cap; clamp the exponent anyway.
  const exponent = Math.min(Math.max(0, input.attempt), 40);
  return Math.min(policy.capMs, unit * 2 ** exponent);
}

/**
 * How long to wait before the next connection attempt.
 * - Full jitter: uniformly in [0, ceiling), so a fleet of clients that lost the same server does not
 *   come back in lockstep.
 * - Retry-After is the server saying "not before": wait that long, plus a jitter of up to one unit so
 *   the fleet still spreads out after it. It may exceed the cap: the server knows best.
 * `random` returns [0, 1), like Math.random, injected for exact tests.
 */
export function reconnectDelay(policy: BackoffPolicy, input: DelayInput, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  if (input.retryAfterMs !== undefined) {
    const unit = Math.min(policy.capMs, Math.max(1, input.serverRetryMs ?? policy.baseMs));
    return Math.round(input.retryAfterMs + r * unit);
  }
  return Math.floor(r * backoffCeiling(policy, input));
}

/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Returns milliseconds from
 * `now`, or undefined when absent or unparseable (then ordinary backoff applies).
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names its weekday and month; Date.parse alone would read "-3" as the year -3.
  if (!/^[A-Za-z]{3},? /.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
