import type { Problem } from '../protocol/index.ts';

/**
 * How one connection ended, when the agent did not close it itself: one typed value, built by the
 * stream (what the network and the server did) and the watchdog (silence), and judged by
 * `decideReconnect` alone.
 */
export type ConnectionEnd =
  /** The socket failed: refused, reset, DNS, TLS. `code` is the system's (ECONNREFUSED, ...). */
  | { readonly kind: 'network-error'; readonly message: string; readonly code?: string }
  /** No response headers in time (a black-holed SYN, a proxy that never answers). */
  | { readonly kind: 'connect-timeout'; readonly afterMs: number }
  /** Response open, then silence for longer than the heartbeat allows: the connection is half-open. */
  | { readonly kind: 'heartbeat-timeout'; readonly afterMs: number }
  /** The server (or a proxy) ended the response cleanly. */
  | { readonly kind: 'server-closed' }
  | {
      readonly kind: 'http';
      readonly status: number;
      /** The problem body, when the server sent a valid one. */
      readonly problem: Problem | null;
      /** From Retry-After, in ms from when the response arrived. */
      readonly retryAfterMs: number | undefined;
    }
  /** A 200 that is not an event stream: a captive portal's login page, a misrouted proxy. */
  | { readonly kind: 'bad-response'; readonly contentType: string };
