import { describe, expect, it } from 'vitest';
import { backoffCeiling, parseRetryAfter, reconnectDelay } from '../../client/backoff.ts';

const POLICY = { baseMs: 1_000, capMs: 10_000 };

describe('reconnect backoff', () => {
  it('doubles the ceiling per failed attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 60].map((f) => backoffCeiling(POLICY, f))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000,
    ]);
  });

  it('draws in the upper half of the ceiling (equal jitter)', () => {
    expect(reconnectDelay(POLICY, { failures: 3 }, () => 0)).toBe(2_000);
    expect(reconnectDelay(POLICY, { failures: 3 }, () => 0.999999)).toBe(4_000);
    expect(reconnectDelay(POLICY, { failures: 99 }, () => 0)).toBe(5_000);
  });

  it("after a live connection: the server's retry: jittered ×[0.5, 1.5)", () => {
    expect(reconnectDelay(POLICY, { failures: 0, serverRetryMs: 3_000 }, () => 0)).toBe(1_500);
    expect(reconnectDelay(POLICY, { failures: 0, serverRetryMs: 3_000 }, () => 0.5)).toBe(3_000);
    expect(reconnectDelay(POLICY, { failures: 0 }, () => 0.5)).toBe(1_000);
    // A silly retry: is capped.
    expect(reconnectDelay(POLICY, { failures: 0, serverRetryMs: 600_000 }, () => 0.5)).toBe(10_000);
  });

  it('treats Retry-After as a floor, spread by at most one unit, even beyond the cap', () => {
    expect(reconnectDelay(POLICY, { failures: 1, retryAfterMs: 5_000 }, () => 0)).toBe(5_000);
    expect(reconnectDelay(POLICY, { failures: 1, retryAfterMs: 5_000 }, () => 0.5)).toBe(5_500);
    expect(reconnectDelay(POLICY, { failures: 1, retryAfterMs: 120_000 }, () => 0)).toBe(120_000);
  });

  it('keeps the full-jitter restart schedule for callers that count attempts', () => {
    expect(reconnectDelay(POLICY, { attempt: 2 }, () => 0.5)).toBe(2_000);
  });

  it('parses Retry-After as seconds or an HTTP-date, and ignores garbage', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-3', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
