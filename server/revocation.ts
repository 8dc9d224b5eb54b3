import type { Registry } from './registry.ts';
import type { TokenStore } from './store/store.ts';

/** What the check needs of a set of open streams (the registry, or the ntfy subscriptions). */
export type RevocableStreams = Pick<Registry, 'size' | 'closeToken' | 'tokenIds'>;

export interface RevocationTiming {
  /** How often recent revocations are polled (cheap: one query for all tokens). */
  readonly pollMs: number;
  /** How often every token behind an open stream is looked up again (catches deleted records). */
  readonly sweepMs: number;
  /** How far back each poll looks: covers clock differences between processes and machines. */
  readonly lookbackMs: number;
}

/**
 * Streams live for days, but a token can be revoked at any time (from the CLI, in another process,
 * or on another instance). Every `pollMs` the store is asked which tokens were revoked lately — one
 * query, whatever the number of streams — and their streams are closed at once: a revoked token
 * stops receiving within about a second and gets a 401 when it reconnects. A slower sweep looks up
 * each distinct token behind open streams, for records that vanished rather than being revoked.
 */
export function startRevocationCheck(
  registry: RevocableStreams,
  tokens: TokenStore,
  timing: RevocationTiming,
  now: () => number,
  onError: (error: unknown) => void,
): () => void {
  let running = false;
  const guarded = (work: () => Promise<void>) => () => {
    if (running || registry.size === 0) return;
    running = true;
    work()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  };
  const poll = setInterval(
    guarded(async () => {
      for (const tokenId of await tokens.revokedSince(now() - timing.lookbackMs)) {
        registry.closeToken(tokenId, 'revoked');
      }
    }),
    timing.pollMs,
  );
  const sweep = setInterval(
    guarded(async () => {
      for (const tokenId of registry.tokenIds()) {
        const record = await tokens.get(tokenId);
        if (record === undefined || record.revokedAt !== null) registry.closeToken(tokenId, 'revoked');
      }
    }),
    timing.sweepMs,
  );
  poll.unref();
  sweep.unref();
  return () => {
    clearInterval(poll);
    clearInterval(sweep);
  };
}
