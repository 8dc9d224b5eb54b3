/**
 * Reconnect timing, as pure functions. Three regimes:
 * - after a connection that reached `ready`: the server's `retry:` (or the base), jittered ×[0.5, 1.5),
 *   however short-lived the connection was: ending is not failing;
 * - after attempts that never became live: exponential in the number of those attempts, "equal
 *   jitter" (uniform in [ceiling/2, ceiling)), capped low so the agent is back within seconds of the
 *   server, while a fleet still spreads its attempts over half the cap;
 * - Retry-After: the server's "not before", plus up to one unit of jitter; it may exceed the cap.
 */

export interface ReconnectPolicy {
  /** The unit of the exponential, and the wait after a live connection when the server sent no `retry:`. */
  readonly baseMs: number;
  /** No wait ever exceeds this, except a longer Retry-After the server asked for. */
  readonly capMs: number;
}

/**
 * A 10 s cap: after an outage of any length the agent is back ≤ 10 s after the server (5–10 s waits
 * when far into the backoff: median ≈ 3.5 s after the server returns, as it lands mid-wait).
 */
export const DEFAULT_RECONNECT: ReconnectPolicy = { baseMs: 1_000, capMs: 10_000 };

export interface DelayInput {
  /** Consecutive attempts that never became live, this one included; 0 after a live connection ended. */
  readonly failures: number;
  /** The last `retry:` the server sent, if any. */
  readonly serverRetryMs?: number | undefined;
  /** From a 429/503 Retry-After header. */
  readonly retryAfterMs?: number | undefined;
}

/** The exponential ceiling after `failures` (≥ 1) failed attempts: base × 2^(failures-1), capped. */
export function backoffCeiling(policy: ReconnectPolicy, failures: number): number {
  // 2^n overflows to Infinity long after it passed the cap; clamp the exponent anyway.
  const exponent = Math.min(Math.max(0, failures - 1), 40);
  return Math.min(policy.capMs, Math.max(1, policy.baseMs) * 2 ** exponent);
}

/** How long to wait before the next attempt. `random` returns [0, 1), like Math.random. */
export function reconnectDelay(
  policy: ReconnectPolicy,
  input: DelayInput | { readonly attempt: number },
  random: () => number,
): number {
  // The self-hosted server supervisor's process restarts keep their full-jitter schedule.
  if ('attempt' in input) return restartDelay({ ...policy, stableAfterMs: 0 }, input, random);
  const r = Math.min(Math.max(random(), 0), 1);
  const unit = Math.min(policy.capMs, Math.max(1, input.serverRetryMs ?? policy.baseMs));
  if (input.retryAfterMs !== undefined) return Math.round(input.retryAfterMs + r * unit);
  if (input.failures <= 0) return Math.round(unit * (0.5 + r));
  const ceiling = backoffCeiling(policy, input.failures);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

/** Full-jitter backoff for restarting a crashing process (the desktop's self-hosted server supervisor). */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  /** A run at least this long counts as stable: the next failure starts again at attempt 0. */
  readonly stableAfterMs: number;
}

/** Uniformly in [0, min(cap, base × 2^attempt)). */
export function restartDelay(
  policy: BackoffPolicy,
  input: { attempt: number },
  random: () => number,
): number {
  const r = Math.min(Math.max(random(), 0), 1);
  const exponent = Math.min(Math.max(0, input.attempt), 40);
  return Math.floor(r * Math.min(policy.capMs, Math.max(1, policy.baseMs) * 2 ** exponent));
}

/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Returns milliseconds from
 * `now` (wall clock: an HTTP-date is one), or undefined when absent or unparseable.
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
