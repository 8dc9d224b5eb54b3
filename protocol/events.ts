import { z } from 'zod';
import { AlarmId } from './alarm.ts';

/** The SSE event names a Tocsin stream carries. Heartbeats are comment frames and have no name. */
export const EventName = {
  alarm: 'alarm',
  ready: 'ready',
  gap: 'gap',
} as const;
export type EventName = (typeof EventName)[keyof typeof EventName];

/**
 * Sent once replay is done: from here on every alarm is live. Carries the heartbeat interval so the
 * client can arm its watchdog, and the cursor the client now stands at (null: nothing delivered yet).
 */
export const ReadyEvent = z.object({
  heartbeatMs: z.number().int().positive(),
  cursor: AlarmId.nullable(),
  /** Identifies the server's store; a different value means ids from another store's sequence. */
  storeId: z.string().min(1),
});
export type ReadyEvent = z.infer<typeof ReadyEvent>;

/**
 * Sent before replay when the server cannot prove it still holds everything after the requested id.
 * - `pruned`: retention removed alarms with ids in (after, through]; some of them may have been yours.
 * - `unknown`: the id is not from this store's sequence (newer than anything it ever issued, e.g. the
 *   server's data was reset); replay restarts from the oldest retained alarm.
 */
export const GapEvent = z.object({
  reason: z.enum(['pruned', 'unknown']),
  after: AlarmId,
  through: AlarmId.nullable(),
});
export type GapEvent = z.infer<typeof GapEvent>;

/**
 * Sent by a client on each stream it opens: a random id for the client instance. A new stream with
 * the same token and client id replaces the older one at once, so a connection that went half-open
 * (sleep, NAT timeout) never lingers on the server counting against the token's stream cap.
 */
export const CLIENT_ID_HEADER = 'x-tocsin-client';
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Sent by a client with its cursor: the `time` of the alarm it last saw. When the server holds an
 * alarm with that id but another time, its history was rolled back (a restored backup reissues ids),
 * and it answers with a `gap` of reason `unknown` instead of silently skipping the reissued ids.
 */
export const CURSOR_TIME_HEADER = 'x-tocsin-cursor-time';
