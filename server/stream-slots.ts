import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { StoreError } from './store/store.ts';

/**
 * The per-token stream cap, counted where every instance sees it. A slot is named by a session key:
 * `c:<client id>` for a client that sent X-Tocsin-Client (its reconnection, on any instance, takes
 * over the same slot), else `s:<random>` per stream. Acquiring a key already held is a takeover, not
 * a second slot. Each call site releases what it acquired when its stream closes.
 */
export interface StreamSlots {
  /** True when the token may open this stream (the slot is now held), false when it is at the cap. */
  acquire(tokenId: string, sessionKey: string): Promise<boolean>;
  release(tokenId: string, sessionKey: string): Promise<void>;
  /** Streams the token holds (every instance). */
  count(tokenId: string): Promise<number>;
  /** Stops refreshing and gives back this instance's slots. */
  close(): Promise<void>;
}

/**
 * Several holders of one key on this instance (a client whose reconnection arrived before its old
 * stream closed): the slot is released when the last of them is.
 */
class LocalHolds {
  readonly #holds = new Map<string, Map<string, number>>();

  has(tokenId: string, key: string): boolean {
    return (this.#holds.get(tokenId)?.get(key) ?? 0) > 0;
  }

  add(tokenId: string, key: string): void {
    let keys = this.#holds.get(tokenId);
    if (keys === undefined) {
      keys = new Map();
      this.#holds.set(tokenId, keys);
    }
    keys.set(key, (keys.get(key) ?? 0) + 1);
  }

  /** True when that was the last local holder of the key. */
  remove(tokenId: string, key: string): boolean {
    const keys = this.#holds.get(tokenId);
    const n = keys?.get(key);
    if (keys === undefined || n === undefined) return false;
    if (n > 1) {
      keys.set(key, n - 1);
      return false;
    }
    keys.delete(key);
    if (keys.size === 0) this.#holds.delete(tokenId);
    return true;
  }

  keysOf(tokenId: string): number {
    return this.#holds.get(tokenId)?.size ?? 0;
  }

  entries(): [string, string[]][] {
    return [...this.#holds].map(([tokenId, keys]) => [tokenId, [...keys.keys()]]);
  }

  clear(): void {
    this.#holds.clear();
  }
}

/** One instance (SQLite, or tests): the cap counted in memory. */
export class MemoryStreamSlots implements StreamSlots {
  readonly #max: number;
  readonly #holds = new LocalHolds();

  constructor(max: number) {
    this.#max = max;
  }

  async acquire(tokenId: string, sessionKey: string): Promise<boolean> {
    if (!this.#holds.has(tokenId, sessionKey) && this.#holds.keysOf(tokenId) >= this.#max) return false;
    this.#holds.add(tokenId, sessionKey);
    return true;
  }

  async release(tokenId: string, sessionKey: string): Promise<void> {
    this.#holds.remove(tokenId, sessionKey);
  }

  async count(tokenId: string): Promise<number> {
    return this.#holds.keysOf(tokenId);
  }

  async close(): Promise<void> {
    this.#holds.clear();
  }
}

/**
 * KEYS: the token's slot set (session key → expiry), its owner hash (session key → instance).
 * ARGV: session key, owner, ttl ms, max. Drops expired slots (an instance that died stopped refreshing
 * them), then takes the slot: a held key changes owner (a takeover), a new one needs room. Redis's
 * clock, so instances' clocks never matter.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('HDEL', KEYS[2], dead)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ttl = tonumber(ARGV[3])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`;

/** KEYS: slot set, owner hash. ARGV: session key, owner. Only the slot's current owner frees it. */
const RELEASE = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

/** KEYS: slot set, owner hash. ARGV: owner, ttl ms, then session keys: extends those it still owns. */
const REFRESH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`;

/** KEYS: slot set. Live slots (not expired). */
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

export const STREAM_SLOT_SCRIPTS = {
  tocsinSlotAcquire: { lua: ACQUIRE, numberOfKeys: 2 },
  tocsinSlotRelease: { lua: RELEASE, numberOfKeys: 2 },
  tocsinSlotRefresh: { lua: REFRESH, numberOfKeys: 2 },
  tocsinSlotCount: { lua: COUNT, numberOfKeys: 1 },
} as const;

type SlotCommands = {
  [K in keyof typeof STREAM_SLOT_SCRIPTS]: (...args: (string | number)[]) => Promise<number>;
};

export interface RedisStreamSlotsOptions {
  redis: Redis;
  max: number;
  /**
   * A slot this instance stops refreshing (it died) is freed after this. The instance refreshes its
   * slots every ttl/3, so a live one never loses a slot to a single slow refresh.
   */
  ttlMs?: number;
  keyPrefix?: string;
}

/**
 * Scale-out: the cap counted in Redis, so N instances allow the cap, not N× it. Each slot expires
 * unless its instance refreshes it, which frees the slots of an instance that died without closing.
 */
export class RedisStreamSlots implements StreamSlots {
  readonly #redis: Redis;
  readonly #commands: SlotCommands;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #prefix: string;
  /** This instance's name in the owner hashes. */
  readonly #owner = randomUUID();
  readonly #holds = new LocalHolds();
  readonly #timer: NodeJS.Timeout;

  constructor(options: RedisStreamSlotsOptions) {
    this.#redis = options.redis;
    for (const [name, script] of Object.entries(STREAM_SLOT_SCRIPTS)) {
      if (!(name in this.#redis)) this.#redis.defineCommand(name, script);
    }
    this.#commands = this.#redis as unknown as SlotCommands;
    this.#max = options.max;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#prefix = options.keyPrefix ?? 'tocsin:';
    this.#timer = setInterval(() => void this.#refresh().catch(() => {}), this.#ttlMs / 3);
    this.#timer.unref();
  }

  #keys(tokenId: string): [string, string] {
    return [`${this.#prefix}stream-slots:${tokenId}`, `${this.#prefix}stream-slots:${tokenId}:owner`];
  }

  async #call(name: keyof SlotCommands, ...args: (string | number)[]): Promise<number> {
    try {
      return await this.#commands[name](...args);
    } catch (error) {
      throw new StoreError('unavailable', `Redis (stream slots): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async acquire(tokenId: string, sessionKey: string): Promise<boolean> {
    // Counted locally first, so a release issued meanwhile only frees the slot once no holder is left.
    this.#holds.add(tokenId, sessionKey);
    let granted = false;
    try {
      granted =
        (await this.#call(
          'tocsinSlotAcquire',
          ...this.#keys(tokenId),
          sessionKey,
          this.#owner,
          this.#ttlMs,
          this.#max,
        )) === 1;
      return granted;
    } finally {
      if (!granted) this.#holds.remove(tokenId, sessionKey);
    }
  }

  async release(tokenId: string, sessionKey: string): Promise<void> {
    if (!this.#holds.remove(tokenId, sessionKey)) return;
    await this.#call('tocsinSlotRelease', ...this.#keys(tokenId), sessionKey, this.#owner);
  }

  count(tokenId: string): Promise<number> {
    return this.#call('tocsinSlotCount', this.#keys(tokenId)[0]);
  }

  async #refresh(): Promise<void> {
    await Promise.all(
      this.#holds
        .entries()
        .map(([tokenId, keys]) =>
          this.#call('tocsinSlotRefresh', ...this.#keys(tokenId), this.#owner, this.#ttlMs, ...keys),
        ),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const held = this.#holds.entries();
    this.#holds.clear();
    await Promise.all(
      held.flatMap(([tokenId, keys]) =>
        keys.map((key) =>
          this.#call('tocsinSlotRelease', ...this.#keys(tokenId), key, this.#owner).catch(() => 0),
        ),
      ),
    );
  }
}
