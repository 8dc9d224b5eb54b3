/**
 * The ids delivered most recently, so an alarm that arrives twice (a cursor write lost in a crash, a
 * store change that forces a full replay, two server instances) is delivered once. Ids are opaque:
 * no ordering is assumed, only equality. Bounded: the oldest ids are forgotten first.
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #ids = new Set<string>();

  constructor(capacity: number, seed: Iterable<string> = []) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.#capacity = capacity;
    for (const id of seed) this.add(id);
  }

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Returns false when the id was already known (a duplicate). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
    return true;
  }

  clear(): void {
    this.#ids.clear();
  }
}
