import { describe, expect, it } from 'vitest';
import type { ConnectionEnd } from '../../client/connection-end.ts';
import { decideReconnect, type ReconnectContext } from '../../client/reconnect.ts';

const POLICY = { baseMs: 1_000, capMs: 10_000 };
const HALF = () => 0.5;
const problem = (code: string, detail?: string) =>
  ({ type: 'about:blank', title: code, status: 0, code, ...(detail ? { detail } : {}) }) as never;

const live: ReconnectContext = {
  wasLive: true,
  failures: 0,
  serverRetryMs: 2_000,
  networkOffline: false,
  sentCursor: true,
};
const failing = (failures: number): ReconnectContext => ({ ...live, wasLive: false, failures });
const http = (status: number, retryAfterMs?: number, p: unknown = null): ConnectionEnd => ({
  kind: 'http',
  status,
  problem: p as never,
  retryAfterMs,
});

/** One row per fault of issue 9's table (and the rest of the policy): end + context → decision. */
const ROWS: {
  name: string;
  end: ConnectionEnd;
  context: ReconnectContext;
  expected: Record<string, unknown>;
  detail?: RegExp;
}[] = [
  {
    name: 'a proxy ends a live stream cleanly after 20 s: the server retry, jittered, no escalation',
    end: { kind: 'server-closed' },
    context: live,
    expected: { action: 'retry', reason: 'server-closed', failures: 0, delayMs: 2_000 },
  },
  {
    name: 'even after many earlier failures, a stream that reached ready resets the count',
    end: { kind: 'server-closed' },
    context: { ...failing(7), wasLive: true },
    expected: { action: 'retry', failures: 0, delayMs: 2_000 },
  },
  {
    name: 'a reverse proxy answers 404 (deploy, misrouting): retried, with a hint about the URL',
    end: http(404),
    context: failing(0),
    expected: { action: 'retry', reason: 'not-found', httpStatus: 404, failures: 1, delayMs: 750 },
    detail: /404 — is the URL right\?/,
  },
  {
    name: 'a 502 from a proxy while the server restarts: retried',
    end: http(502),
    context: failing(1),
    expected: { action: 'retry', reason: 'http-error', httpStatus: 502, failures: 2, delayMs: 1_500 },
    detail: /502 Bad Gateway/,
  },
  {
    name: 'the server is down for long: waits stay within the 10 s cap (5–10 s)',
    end: { kind: 'network-error', message: 'ECONNREFUSED', code: 'ECONNREFUSED' },
    context: failing(30),
    expected: { action: 'retry', reason: 'network-error', failures: 31, delayMs: 7_500 },
  },
  {
    name: 'a black-holed SYN: the connect timeout ends it, then ordinary backoff',
    end: { kind: 'connect-timeout', afterMs: 5_000 },
    context: failing(2),
    expected: { action: 'retry', reason: 'connect-timeout', failures: 3, delayMs: 3_000 },
    detail: /did not answer within 5 s/,
  },
  {
    name: 'a half-open live stream (the clock stepped back meanwhile): retried at the server retry',
    end: { kind: 'heartbeat-timeout', afterMs: 5_000 },
    context: live,
    expected: { action: 'retry', reason: 'heartbeat-timeout', failures: 0, delayMs: 2_000 },
  },
  {
    name: 'a captive portal answers 200 text/html: retried, and said',
    end: { kind: 'bad-response', contentType: 'text/html' },
    context: failing(0),
    expected: { action: 'retry', reason: 'bad-response', failures: 1 },
    detail: /captive portal/,
  },
  {
    name: 'a TLS error is a network error: retried',
    end: {
      kind: 'network-error',
      message: 'CERT_HAS_EXPIRED: certificate has expired',
      code: 'CERT_HAS_EXPIRED',
    },
    context: failing(0),
    expected: { action: 'retry', reason: 'network-error' },
    detail: /certificate has expired/,
  },
  {
    name: 'a 400 (an unknown topic) is retried too: only credentials stop',
    end: http(400, undefined, problem('bad-request', 'unknown topic')),
    context: failing(0),
    expected: { action: 'retry', reason: 'rejected', httpStatus: 400 },
    detail: /unknown topic/,
  },
  {
    name: '429 with Retry-After: that long plus up to one unit, even beyond the cap',
    end: http(429, 30_000),
    context: failing(0),
    expected: { action: 'retry', reason: 'rate-limited', delayMs: 31_000 },
  },
  {
    name: '503 with Retry-After',
    end: http(503, 5_000),
    context: failing(3),
    expected: { action: 'retry', reason: 'unavailable', delayMs: 6_000, failures: 4 },
  },
  {
    name: '401 stops: sign in again, exit 3',
    end: http(401, undefined, problem('unauthorized', 'revoked')),
    context: failing(0),
    expected: { action: 'sign-in', reason: 'unauthorized', detail: 'revoked', exitCode: 3 },
  },
  {
    name: '403 stops: sign in again, exit 3',
    end: http(403),
    context: live,
    expected: { action: 'sign-in', reason: 'forbidden', exitCode: 3 },
  },
  {
    name: 'a cursor the server cannot parse is dropped, and the agent reconnects at once',
    end: http(400, undefined, problem('bad-last-event-id', 'not an id')),
    context: failing(0),
    expected: { action: 'drop-cursor', detail: 'not an id' },
  },
  {
    name: 'an older server that refuses ?since= durations: asked again without it, at once',
    end: http(400, undefined, problem('bad-last-event-id', '"24h" is not an alarm id')),
    context: { ...failing(0), sentCursor: false, sentSince: true },
    expected: { action: 'drop-since' },
  },
  {
    name: 'while the shell says the network is gone: wait for it',
    end: { kind: 'network-error', message: 'ENETUNREACH' },
    context: { ...failing(0), networkOffline: true },
    expected: { action: 'offline' },
  },
];

describe('reconnect decision (one row per fault)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const decision = decideReconnect(row.end, row.context, POLICY, HALF);
      expect(decision).toMatchObject(row.expected);
      if (row.detail !== undefined) expect((decision as { detail: string }).detail).toMatch(row.detail);
    });
  }

  it('never gives up: whatever the end and however many failures, only 401/403 stop', () => {
    const ends: ConnectionEnd[] = [
      { kind: 'server-closed' },
      { kind: 'network-error', message: 'x' },
      { kind: 'connect-timeout', afterMs: 1 },
      { kind: 'heartbeat-timeout', afterMs: 1 },
      { kind: 'bad-response', contentType: '' },
      ...[400, 404, 405, 408, 410, 429, 500, 502, 503, 504].map((s) => http(s)),
    ];
    for (const end of ends) {
      for (const failures of [0, 1, 5, 50, 5_000]) {
        const d = decideReconnect(end, failing(failures), POLICY, Math.random);
        expect(d.action).toBe('retry');
        if (d.action === 'retry') expect(d.delayMs).toBeLessThanOrEqual(10_000);
      }
    }
  });

  it('spreads a fleet: after an outage, waits are uniform over the upper half of the cap', () => {
    const waits = Array.from({ length: 2_000 }, (_, i) =>
      decideReconnect({ kind: 'network-error', message: 'x' }, failing(20), POLICY, () => i / 2_000),
    ).map((d) => (d as { delayMs: number }).delayMs);
    expect(Math.min(...waits)).toBe(5_000);
    expect(Math.max(...waits)).toBeLessThan(10_000);
  });

  it('strips control characters from what the server said', () => {
    const d = decideReconnect(
      http(502, undefined, problem('internal', 'bad\u001b]0;pwned\u0007 gateway')),
      failing(0),
      POLICY,
      HALF,
    );
    expect((d as { detail: string }).detail).toBe('the server answered 502 Bad Gateway: bad]0;pwned gateway');
  });
});
