import type { TokenRecord, TokenStore } from './store/store.ts';

export interface TokenCacheOptions {
  /** How long a looked-up record (or its absence) is reused: the bound on how late a revocation made elsewhere is seen. */
  readonly maxAgeMs: number;
  /** Entries kept at most; the oldest go first. */
  readonly maxEntries: number;
}

interface Entry {
  readonly record: TokenRecord | undefined;
  readonly at: number;
}

/**
 * Every publish and every stream open looks its token up. Against SQLite that read starts a read
 * transaction whose page cache the writer thread has just invalidated; against Redis it is a round
 * trip. This keeps each answer for `maxAgeMs` (the revocation poll's period, 1 s by default), so a
 * busy publisher costs one lookup a second instead of one per alarm.
 *
 * What that changes: a token revoked by another process (the CLI, another instance) is refused
 * within `maxAgeMs`, the same bound as closing its open streams; revoked through this store, at once.
 * Absent ids are kept too, so a known id with a wrong secret and an unknown id cost the same
 * (no timing tells which ids exist); a token cannot be presented before it is created, so caching an
 * absence never refuses a new token.
 */
export class TokenCache implements TokenStore {
  readonly #store: TokenStore;
  readonly #options: TokenCacheOptions;
  /** Monotonic: a wall clock stepped back would keep entries forever. */
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Lookups under way: requests that arrive meanwhile wait for the same answer (one read, not 128). */
  readonly #lookups = new Map<string, Promise<TokenRecord | undefined>>();
  /** Bumped by every change made through this cache: a lookup that overlapped one keeps nothing. */
  #changes = 0;

  constructor(store: TokenStore, options: TokenCacheOptions, now: () => number = () => performance.now()) {
    this.#store = store;
    this.#options = options;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): Promise<TokenRecord | undefined> {
    const now = this.#now();
    const entry = this.#entries.get(id);
    if (entry !== undefined && now - entry.at < this.#options.maxAgeMs) return Promise.resolve(entry.record);
    let lookup = this.#lookups.get(id);
    if (lookup === undefined) {
      const started = this.#lookup(id, now).finally(() => {
        if (this.#lookups.get(id) === started) this.#lookups.delete(id);
      });
      lookup = started;
      this.#lookups.set(id, lookup);
    }
    return lookup;
  }

  async #lookup(id: string, now: number): Promise<TokenRecord | undefined> {
    const changes = this.#changes;
    const record = await this.#store.get(id);
    if (changes !== this.#changes) return record;
    this.#entries.delete(id);
    if (this.#entries.size >= this.#options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, { record, at: now });
    return record;
  }

  insert(record: TokenRecord): Promise<void> {
    return this.#changing(record.id, () => this.#store.insert(record));
  }

  revoke(id: string, at: number): Promise<boolean> {
    return this.#changing(id, () => this.#store.revoke(id, at));
  }

  /** Before and after: a lookup that read the old record while the change was under way keeps nothing. */
  async #changing<T>(id: string, change: () => Promise<T>): Promise<T> {
    this.#forget(id);
    try {
      return await change();
    } finally {
      this.#forget(id);
    }
  }

  #forget(id: string): void {
    this.#changes++;
    this.#entries.delete(id);
    // A lookup under way may return what was there before the change: later requests ask again.
    this.#lookups.delete(id);
  }

  list(): Promise<TokenRecord[]> {
    return this.#store.list();
  }

  revokedSince(since: number): Promise<string[]> {
    return this.#store.revokedSince(since);
  }

  count(): Promise<number> {
    return this.#store.count();
  }
}
