import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite.ts';
import type { TokenRecord, TokenStore } from '../../server/store/store.ts';
import { TokenCache } from '../../server/token-cache.ts';
import { mintToken, verifyToken } from '../../server/tokens.ts';

/** The real SQLite store, with its lookups counted: what the cache saves is what it does not ask. */
class CountingStore implements TokenStore {
  lookups = 0;
  /** When set, a lookup reads the record at once but answers only when this settles (a slow store). */
  gate: Promise<void> | undefined;
  readonly inner: SqliteStore;
  constructor(inner: SqliteStore) {
    this.inner = inner;
  }
  async get(id: string) {
    this.lookups++;
    const record = await this.inner.get(id);
    await this.gate;
    return record;
  }
  insert(record: TokenRecord) {
    return this.inner.insert(record);
  }
  list() {
    return this.inner.list();
  }
  revoke(id: string, at: number) {
    return this.inner.revoke(id, at);
  }
  revokedSince(since: number) {
    return this.inner.revokedSince(since);
  }
  count() {
    return this.inner.count();
  }
}

describe('token cache', () => {
  let dir: string;
  let sqlite: SqliteStore;
  let store: CountingStore;
  let clock: number;
  let cache: TokenCache;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-token-cache-'));
    sqlite = new SqliteStore({ dataDir: dir, retention: { maxAgeMs: 60_000, maxCount: 10 } });
    store = new CountingStore(sqlite);
    clock = 0;
    cache = new TokenCache(store, { maxAgeMs: 1_000, maxEntries: 3 }, () => clock);
  });
  afterEach(async () => {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('looks a token up once per period, however often it is presented', async () => {
    const { token } = await mintToken(cache, { user: 'a', scope: 'publish', topics: null }, 0);
    for (let i = 0; i < 50; i++) expect((await verifyToken(cache, token))?.user).toBe('a');
    expect(store.lookups).toBe(1);
    clock = 1_000;
    expect((await verifyToken(cache, token))?.user).toBe('a');
    expect(store.lookups).toBe(2);
  });

  it('makes one lookup for the requests that arrive while it is under way', async () => {
    const { token } = await mintToken(cache, { user: 'a', scope: 'publish', topics: null }, 0);
    let answer = () => {};
    store.gate = new Promise((resolve) => {
      answer = resolve;
    });
    const verified = Array.from({ length: 100 }, () => verifyToken(cache, token));
    answer();
    for (const principal of await Promise.all(verified)) expect(principal?.user).toBe('a');
    expect(store.lookups).toBe(1);
  });

  it('refuses a token revoked through it at once, and one revoked elsewhere within the period', async () => {
    const here = await mintToken(cache, { user: 'a', scope: 'publish', topics: null }, 0);
    const elsewhere = await mintToken(cache, { user: 'b', scope: 'publish', topics: null }, 0);
    expect(await verifyToken(cache, here.token)).not.toBeNull();
    expect(await verifyToken(cache, elsewhere.token)).not.toBeNull();
    await cache.revoke(here.record.id, 1);
    expect(await verifyToken(cache, here.token)).toBeNull();
    // Another process (the CLI, another instance) writes to the store directly.
    await sqlite.revoke(elsewhere.record.id, 1);
    clock = 999;
    expect(await verifyToken(cache, elsewhere.token)).not.toBeNull();
    clock = 1_000;
    expect(await verifyToken(cache, elsewhere.token)).toBeNull();
  });

  it('keeps nothing from a lookup that overlapped a revocation', async () => {
    const { token, record } = await mintToken(cache, { user: 'a', scope: 'publish', topics: null }, 0);
    // The lookup reads the record, then the whole revocation completes before the lookup answers.
    let answer = () => {};
    store.gate = new Promise((resolve) => {
      answer = resolve;
    });
    const lookup = cache.get(record.id);
    await cache.revoke(record.id, 1);
    answer();
    expect((await lookup)?.revokedAt).toBeNull();
    store.gate = undefined;
    expect(await verifyToken(cache, token)).toBeNull();
  });

  it('answers unknown ids from the cache too, so a known id costs no less than an unknown one', async () => {
    const { token } = await mintToken(cache, { user: 'a', scope: 'publish', topics: null }, 0);
    const unknown = token.replace(/^tcs_[0-9a-f]{12}/, 'tcs_000000000000');
    await verifyToken(cache, token);
    await verifyToken(cache, unknown);
    expect(store.lookups).toBe(2);
    for (let i = 0; i < 5; i++) {
      expect(await verifyToken(cache, token)).not.toBeNull();
      expect(await verifyToken(cache, unknown)).toBeNull();
    }
    expect(store.lookups).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const tokens = [];
    for (const user of ['a', 'b', 'c', 'd']) {
      tokens.push((await mintToken(cache, { user, scope: 'publish', topics: null }, 0)).token);
    }
    for (const token of tokens) await verifyToken(cache, token);
    expect(cache.size).toBe(3);
    expect(store.lookups).toBe(4);
    await verifyToken(cache, tokens[0] as string);
    expect(store.lookups).toBe(5);
    await verifyToken(cache, tokens[3] as string);
    expect(store.lookups).toBe(5);
  });
});
