/**
 * Messages between the bench (parent) and its load workers (forked children). Every request carries
 * a `seq`; the worker answers exactly once with the same `seq`.
 */

export interface Endpoint {
  host: string;
  port: number;
  token: string;
  /** Request path and query, e.g. `/v1/stream?topics=bench`. */
  path: string;
}

export type SubscriberRequest =
  | { op: 'clock' }
  /** Opens `count` more streams (fresh: no cursor); answers once all are ready or failed. */
  | { op: 'connect'; count: number; maxInFlight: number; timeoutMs: number }
  /** Closes the last `count` streams with a TCP reset (no TIME_WAIT left on the client side). */
  | { op: 'close'; count: number }
  /** Drops every stream at once (reset), as a network outage would. Cursors are kept. */
  | { op: 'drop' }
  /**
   * Reopens every dropped stream with `Last-Event-ID: <its cursor>` and its X-Tocsin-Client id, each
   * after the agent's backoff (`timing: 'agent'`: full jitter over the server's `retry:`, `retryMs`)
   * or all at once (`'instant'`); answers when all were scheduled (not when caught up: use `watch`).
   * While `autoReconnect`, a stream the server closes or refuses is reopened from its cursor after
   * the agent's backoff (attempt + 1, Retry-After honoured), like the real client.
   */
  | {
      op: 'reconnect';
      autoReconnect: boolean;
      retryMs: number;
      maxInFlight: number;
      timing: 'agent' | 'instant';
    }
  /**
   * Starts recording, per stream, when its cursor first passes `afterId` (and, with `needReady`, it
   * also got `event: ready` on its current connection). See WatchResult.
   */
  | { op: 'watch'; afterId: number; needReady: boolean }
  /** Waits until every open stream passed the watch's id (or timeout) and returns the times. */
  | { op: 'await'; watch: number; timeoutMs: number }
  /** Starts (or restarts) a log of every id each stream receives. */
  | { op: 'log' }
  /** Compares each stream's log with the exact ids it had to receive (ascending). */
  | { op: 'verify'; expected: number[] }
  | { op: 'stats' };

export interface ConnectResult {
  ready: number;
  failed: number;
  /** HTTP status (or error code) → count, for failures. */
  failures: Record<string, number>;
}

export interface WatchResult {
  /** Per open stream: CLOCK_MONOTONIC ms when its cursor passed the id; NaN if it never did. */
  times: number[];
  missing: number;
}

export interface VerifyResult {
  streams: number;
  /** Streams still catching up when checked (storm cap reached); judged on what they had so far. */
  incomplete: number;
  /** Alarm frames received in all (the logs' total length). */
  delivered: number;
  lost: number;
  duplicates: number;
  unexpected: number;
  /** Streams that received ids out of order. */
  outOfOrder: number;
}

export interface SubscriberStats {
  open: number;
  ready: number;
  heartbeats: number;
  bytes: number;
  /** Streams the server closed that we did not close, and reopened ones. */
  serverCloses: number;
  reconnects: number;
  gaps: number;
  failures: Record<string, number>;
}

export type SubscriberReply =
  | { seq: number; ok: true; value: unknown }
  | { seq: number; ok: false; error: string };

export type PublisherRequest =
  | { op: 'clock' }
  /** Publishes exactly `count` alarms, `concurrency` in flight; returns the acknowledged ids. */
  | { op: 'burst'; count: number; concurrency: number }
  /** Publishes one alarm and stamps when the request left and when the ack came back. */
  | { op: 'single' }
  /**
   * Publishes `count` alarms `gapMs` apart, each on its own connection, whatever the acks do (a busy
   * server must not slow the schedule down); answers with the acknowledged ids once all are answered,
   * or at `deadlineMs` (the unanswered count as failed).
   */
  | { op: 'trickle'; count: number; gapMs: number; deadlineMs: number }
  /** Opens the trickle's connections ahead of time (see trickle). */
  | { op: 'prepare-trickle'; count: number }
  /** As many publishes as `concurrency` connections can get acknowledged in `durationMs`. */
  | { op: 'throughput'; concurrency: number; durationMs: number; warmupMs: number };

export interface BurstResult {
  ids: number[];
  failed: number;
  /** Why, per kind: `status 503`, `error ECONNRESET`, `no answer by the deadline`. */
  failures: Record<string, number>;
  ms: number;
}

export interface SingleResult {
  id: number;
  sentAt: number;
  ackedAt: number;
}

export interface ThroughputResult {
  acked: number;
  failed: number;
  statuses: Record<string, number>;
  ms: number;
  /** Request → ack latency percentiles (ms) over the measured window. */
  p50: number;
  p99: number;
}

export interface PublisherSetup {
  host: string;
  port: number;
  token: string;
  localAddress: string;
  /** The JSON alarm every publish sends. */
  body: string;
}
