import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, backoffCeiling, parseRetryAfter, reconnectDelay } from '../../client/backoff.ts';

const policy: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, stableAfterMs: 30_000 };

describe('reconnect backoff (full jitter)', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 10, 100].map((attempt) => backoffCeiling(policy, { attempt }));
    expect(ceilings).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('draws uniformly below the ceiling: random 0 → 0, random → 1 stays under the ceiling', () => {
    expect(reconnectDelay(policy, { attempt: 3 }, () => 0)).toBe(0);
    expect(reconnectDelay(policy, { attempt: 3 }, () => 0.5)).toBe(4_000);
    expect(reconnectDelay(policy, { attempt: 3 }, () => 0.999_999)).toBeLessThan(8_000);
    expect(reconnectDelay(policy, { attempt: 50 }, () => 0.999_999)).toBeLessThan(60_000);
  });

  it("uses the server's retry: as the unit of the exponential", () => {
    expect(backoffCeiling(policy, { attempt: 0, serverRetryMs: 250 })).toBe(250);
    expect(backoffCeiling(policy, { attempt: 2, serverRetryMs: 250 })).toBe(1_000);
    expect(backoffCeiling(policy, { attempt: 20, serverRetryMs: 250 })).toBe(60_000);
  });

  it('treats Retry-After as a floor, spread by at most one unit, even beyond the cap', () => {
    expect(reconnectDelay(policy, { attempt: 0, retryAfterMs: 7_000 }, () => 0)).toBe(7_000);
    expect(reconnectDelay(policy, { attempt: 0, retryAfterMs: 7_000 }, () => 0.5)).toBe(7_500);
    expect(reconnectDelay(policy, { attempt: 9, retryAfterMs: 7_000, serverRetryMs: 200 }, () => 0.5)).toBe(
      7_100,
    );
    expect(reconnectDelay(policy, { attempt: 0, retryAfterMs: 120_000 }, () => 0)).toBe(120_000);
  });

  it('parses Retry-After as seconds or an HTTP-date, and ignores garbage', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
