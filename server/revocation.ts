import type { Registry } from './registry.ts';
import type { TokenStore } from './store/store.ts';

/**
 * Streams live for days, but a token can be revoked at any time (from the CLI, in another process).
 * Every interval, the tokens behind open streams are looked up again (one lookup per distinct token,
 * not per stream) and the streams of revoked ones are closed: the client then gets a 401 on reconnect.
 */
export function startRevocationCheck(
  registry: Registry,
  tokens: TokenStore,
  intervalMs: number,
  onError: (error: unknown) => void,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        for (const tokenId of registry.tokenIds()) {
          const record = await tokens.get(tokenId);
          if (record === undefined || record.revokedAt !== null) registry.closeToken(tokenId, 'revoked');
        }
      } catch (error) {
        onError(error);
      } finally {
        running = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
