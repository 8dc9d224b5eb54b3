/** Why a gate refused: this key has its share already, or the whole gate is full. */
export type GateRefusal = 'key' | 'total';

/**
 * Bounds concurrent work per key (a token) and in total. Pure bookkeeping: `enter` either gives a
 * release function (call it exactly once when the work ends) or says which bound refused.
 */
export class ConcurrencyGate {
  readonly #perKey: number;
  readonly #total: number;
  readonly #byKey = new Map<string, number>();
  #inFlight = 0;

  constructor(limits: { perKey: number; total: number }) {
    this.#perKey = limits.perKey;
    this.#total = limits.total;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  enter(key: string): { release: () => void } | { refused: GateRefusal } {
    const mine = this.#byKey.get(key) ?? 0;
    if (mine >= this.#perKey) return { refused: 'key' };
    if (this.#inFlight >= this.#total) return { refused: 'total' };
    this.#byKey.set(key, mine + 1);
    this.#inFlight++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
        const left = (this.#byKey.get(key) ?? 1) - 1;
        if (left === 0) this.#byKey.delete(key);
        else this.#byKey.set(key, left);
      },
    };
  }
}
