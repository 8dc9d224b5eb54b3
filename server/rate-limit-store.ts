import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];

/**
 * KEYS: the counter. ARGV: how many units to take, the window (ms). A fixed window, as the plugin's
 * own Redis store counts it: the first count of a window sets its expiry.
 * Returns {count after, ms left in the window}.
 */
const TAKE = `
local n = tonumber(ARGV[1])
local current = redis.call('INCRBY', KEYS[1], n)
local ttl
if current == n then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
else
  ttl = redis.call('PTTL', KEYS[1])
end
return {current, ttl}
`;

type TakeCommand = {
  tocsinRateTake(key: string, count: number, windowMs: number): Promise<[number, number]>;
};

/** Counts this instance took from Redis for one key and has not handed out yet. */
interface Lease {
  next: number;
  readonly last: number;
  /** performance.now() at which the window (and so the lease) ends. */
  readonly endsAt: number;
}

interface Waiting {
  readonly callbacks: Callback[];
  readonly windowMs: number;
  readonly max: number;
}

const MAX_LEASES = 10_000;

/** Counts are taken from Redis in slices of this share of the limit (at least one). */
export function leaseSize(max: number): number {
  return Math.max(1, Math.floor(max / 100));
}

/**
 * @fastify/rate-limit's counter, shared by every instance through Redis, without a Redis write per
 * request. Each instance takes counts from the shared counter in slices (1 % of the limit, at least
 * one) and hands them out locally until the slice is used or the window ends; requests of one loop
 * turn that need a new slice share one INCRBY. Every count is taken from Redis before it is handed
 * out, so N instances together never allow more than the limit; the price is that an instance may
 * hold counts it does not use, so near the end of a window another may refuse up to (N − 1) slices
 * early. At the default 300 a minute the slice is 3; below 200 it is 1, i.e. exact.
 *
 * Why not the plugin's Redis store: it runs a script per request, and with `appendfsync always`
 * each one waits for its own fsync before the publish even starts storing (then waits for another).
 */
export function leasedRedisRateStore(
  redis: Redis,
  nameSpace: string,
  now: () => number = () => performance.now(),
): FastifyRateLimitStoreCtor {
  if (!('tocsinRateTake' in redis)) redis.defineCommand('tocsinRateTake', { numberOfKeys: 1, lua: TAKE });
  const commands = redis as unknown as TakeCommand;
  const leases = new Map<string, Lease>();
  let waiting = new Map<string, Waiting>();

  const take = (key: string, { callbacks, windowMs, max }: Waiting) => {
    const size = Math.max(callbacks.length, leaseSize(max));
    commands.tocsinRateTake(nameSpace + key, size, windowMs).then(
      ([total, ttl]) => {
        const first = total - size + 1;
        const left = Math.max(0, ttl);
        const at = now();
        for (const [i, callback] of callbacks.entries()) callback(null, { current: first + i, ttl: left });
        const rest: Lease = { next: first + callbacks.length, last: total, endsAt: at + left };
        if (rest.next <= rest.last && left > 0) leases.set(key, rest);
        // Leases of tokens that stopped publishing: dropped once there are many, never unbounded.
        if (leases.size > MAX_LEASES) for (const [k, l] of leases) if (l.endsAt <= at) leases.delete(k);
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const callback of callbacks) callback(failure);
      },
    );
  };
  const send = () => {
    const turn = waiting;
    waiting = new Map();
    for (const [key, entry] of turn) take(key, entry);
  };

  class LeasedRedisRateStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      const lease = leases.get(key);
      if (lease !== undefined) {
        const left = lease.endsAt - now();
        if (left > 0 && lease.next <= lease.last) {
          callback(null, { current: lease.next++, ttl: Math.ceil(left) });
          return;
        }
        leases.delete(key);
      }
      if (waiting.size === 0) setImmediate(send);
      const entry = waiting.get(key);
      if (entry === undefined) waiting.set(key, { callbacks: [callback], windowMs: timeWindow, max });
      else entry.callbacks.push(callback);
    }

    /** One budget per token whatever the route: both publish dialects draw on it. */
    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return LeasedRedisRateStore;
}
