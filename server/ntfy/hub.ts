import type { TokenStore } from '../store/store.ts';
import type { NtfySubscription } from './subscription.ts';

/**
 * The open ntfy subscriptions of this instance: one keepalive timer for all of them, a per-token cap,
 * closing those of revoked tokens, and closing all on shutdown.
 */
export class NtfyHub {
  readonly #subs = new Set<NtfySubscription>();
  readonly #perToken = new Map<string, number>();
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(options: {
    keepaliveMs: number;
    tokens: TokenStore;
    tokenRecheckMs: number;
    onError: (error: unknown) => void;
  }) {
    const keepalive = setInterval(() => {
      for (const sub of [...this.#subs]) sub.keepalive();
    }, options.keepaliveMs);
    let checking = false;
    const revocation = setInterval(() => {
      if (checking || this.#perToken.size === 0) return;
      checking = true;
      void (async () => {
        try {
          for (const tokenId of [...this.#perToken.keys()]) {
            const record = await options.tokens.get(tokenId);
            if (record === undefined || record.revokedAt !== null) this.closeToken(tokenId);
          }
        } catch (error) {
          options.onError(error);
        } finally {
          checking = false;
        }
      })();
    }, options.tokenRecheckMs);
    keepalive.unref();
    revocation.unref();
    this.#timers.push(keepalive, revocation);
  }

  get size(): number {
    return this.#subs.size;
  }

  streamsOf(tokenId: string): number {
    return this.#perToken.get(tokenId) ?? 0;
  }

  add(sub: NtfySubscription): void {
    this.#subs.add(sub);
    const tokenId = sub.principal.tokenId;
    this.#perToken.set(tokenId, this.streamsOf(tokenId) + 1);
    sub.onClose(() => this.#remove(sub));
  }

  #remove(sub: NtfySubscription): void {
    if (!this.#subs.delete(sub)) return;
    const tokenId = sub.principal.tokenId;
    const left = this.streamsOf(tokenId) - 1;
    if (left > 0) this.#perToken.set(tokenId, left);
    else this.#perToken.delete(tokenId);
  }

  closeToken(tokenId: string): void {
    for (const sub of [...this.#subs]) if (sub.principal.tokenId === tokenId) sub.close();
  }

  closeAll(): void {
    for (const sub of [...this.#subs]) sub.close();
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.closeAll();
  }
}
