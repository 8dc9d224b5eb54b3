import { stripControlChars } from '../protocol/index.ts';
import { type ReconnectPolicy, reconnectDelay } from './backoff.ts';
import type { ConnectionEnd } from './connection-end.ts';
import type { FailureReason } from './state.ts';

/** What the agent knows when a connection ends, besides how it ended. */
export interface ReconnectContext {
  /** The connection that just ended had reached `ready`. */
  readonly wasLive: boolean;
  /** Consecutive attempts that never became live before this one. */
  readonly failures: number;
  /** The last `retry:` the server sent. */
  readonly serverRetryMs: number | undefined;
  /** The shell said the network is gone (and has not said it is back). */
  readonly networkOffline: boolean;
  /** The attempt carried a cursor (so a rejected cursor can be dropped). */
  readonly sentCursor: boolean;
  /** The attempt carried `?since=` (a look back, sent when there is no cursor). */
  readonly sentSince?: boolean;
}

/** What to do next: the only outcomes there are. */
export type ReconnectDecision =
  /** The credentials were refused: stop, ask to sign in again (the CLI exits 3). Nothing else stops. */
  | {
      readonly action: 'sign-in';
      readonly reason: 'unauthorized' | 'forbidden';
      readonly detail: string;
      readonly exitCode: 3;
    }
  /** The server does not know our cursor's format: forget it and connect again at once. */
  | { readonly action: 'drop-cursor'; readonly detail: string }
  /** A server older than `?since=` durations refused it: connect again at once without it. */
  | { readonly action: 'drop-since'; readonly detail: string }
  /** No network: wait for 'online' (with a slow probe). */
  | { readonly action: 'offline' }
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      /** The failure count to carry into the next attempt. */
      readonly failures: number;
      readonly reason: FailureReason;
      /** One line for the state display: what happened, in the user's terms. */
      readonly detail: string;
      readonly httpStatus?: number;
    };

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function serverSaid(end: Extract<ConnectionEnd, { kind: 'http' }>): string {
  const said = end.problem?.detail ?? end.problem?.title;
  return said === undefined ? '' : `: ${stripControlChars(said).replace(/\s+/g, ' ').slice(0, 200)}`;
}

/** The state line's explanation of an end that will be retried. */
function describe(end: ConnectionEnd): { reason: FailureReason; detail: string } {
  switch (end.kind) {
    case 'network-error':
      return { reason: 'network-error', detail: `cannot reach the server (${end.message})` };
    case 'connect-timeout':
      return {
        reason: 'connect-timeout',
        detail: `the server did not answer within ${Math.round(end.afterMs / 1000)} s`,
      };
    case 'heartbeat-timeout':
      return {
        reason: 'heartbeat-timeout',
        detail: `no data from the server for ${Math.round(end.afterMs / 1000)} s; the connection is dead`,
      };
    case 'server-closed':
      return { reason: 'server-closed', detail: 'the server ended the stream' };
    case 'bad-response':
      return {
        reason: 'bad-response',
        detail: `the server answered ${end.contentType === '' ? 'without a content type' : `"${stripControlChars(end.contentType).slice(0, 80)}"`}, not an event stream — a captive portal or a proxy in the way?`,
      };
    case 'http': {
      const name = STATUS_TEXT[end.status];
      const status = `${end.status}${name === undefined ? '' : ` ${name}`}`;
      if (end.status === 404)
        return {
          reason: 'not-found',
          detail: `the server answered 404 — is the URL right?${serverSaid(end)}`,
        };
      if (end.status === 429)
        return { reason: 'rate-limited', detail: `the server answered 429${serverSaid(end)}` };
      if (end.status === 503)
        return { reason: 'unavailable', detail: `the server answered 503${serverSaid(end)}` };
      if (end.status >= 400 && end.status < 500)
        return { reason: 'rejected', detail: `the server refused the request (${status})${serverSaid(end)}` };
      return { reason: 'http-error', detail: `the server answered ${status}${serverSaid(end)}` };
    }
  }
}

/**
 * The reconnect policy, as one pure function: how the connection ended and what the agent knows →
 * what to do. Only refused credentials stop; everything else (404, 5xx, a captive portal, TLS,
 * silence) is retried with capped backoff, because a deploy, a misrouted proxy or a hotel Wi-Fi
 * heals by itself and the user must get their alarms when it does.
 */
export function decideReconnect(
  end: ConnectionEnd,
  context: ReconnectContext,
  policy: ReconnectPolicy,
  random: () => number,
): ReconnectDecision {
  if (end.kind === 'http' && (end.status === 401 || end.status === 403)) {
    const said = end.problem?.detail ?? end.problem?.title ?? `HTTP ${end.status}`;
    return {
      action: 'sign-in',
      reason: end.status === 401 ? 'unauthorized' : 'forbidden',
      detail: stripControlChars(said),
      exitCode: 3,
    };
  }
  if (end.kind === 'http' && end.problem?.code === 'bad-last-event-id') {
    const detail = stripControlChars(end.problem.detail ?? end.problem.title);
    if (context.sentCursor) return { action: 'drop-cursor', detail };
    if (context.sentSince === true) return { action: 'drop-since', detail };
  }
  if (context.networkOffline) return { action: 'offline' };
  // A connection that reached `ready` ended: not a failure, whatever its age (a proxy with a
  // maximum connection age ends every stream cleanly; the backoff must not climb for that).
  const failures = context.wasLive ? 0 : context.failures + 1;
  const retryAfterMs = end.kind === 'http' ? end.retryAfterMs : undefined;
  const delayMs = reconnectDelay(
    policy,
    { failures, serverRetryMs: context.serverRetryMs, retryAfterMs },
    random,
  );
  const { reason, detail } = describe(end);
  return {
    action: 'retry',
    delayMs,
    failures,
    reason,
    detail,
    ...(end.kind === 'http' ? { httpStatus: end.status } : {}),
  };
}
