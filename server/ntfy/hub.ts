import type { NtfySubscription } from './subscription.ts';

/**
 * The open ntfy subscriptions of this instance: one keepalive timer for all of them, a per-token cap,
 * and closing them by token (revocation, see startRevocationCheck) or all at once (shutdown).
 */
export class NtfyHub {
  readonly #subs = new Set<NtfySubscription>();
  readonly #perToken = new Map<string, number>();
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(options: { keepaliveMs: number }) {
    const keepalive = setInterval(() => {
      for (const sub of [...this.#subs]) sub.keepalive();
    }, options.keepaliveMs);
    keepalive.unref();
    this.#timers.push(keepalive);
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

  tokenIds(): string[] {
    return [...this.#perToken.keys()];
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
