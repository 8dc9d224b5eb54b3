import { Redis } from 'ioredis';
import type { ServerConfig } from './config.ts';
import { MemoryStreamSlots, RedisStreamSlots, type StreamSlots } from './stream-slots.ts';

/**
 * Where the per-token limits (publish rate, stream cap) are counted: in this process for one instance,
 * in Redis when instances share one (scale-out), so that N instances allow the limit, not N× it.
 */
export interface Limits {
  /** The connection the publish rate limit counts on (scale-out), else undefined: in memory. */
  readonly redis: Redis | undefined;
  readonly streamSlots: StreamSlots;
  /** Connects (scale-out); a Redis not there yet is retried in the background. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function openLimits(
  config: Pick<ServerConfig, 'redisUrl' | 'maxStreamsPerToken'>,
  options: { streamSlotTtlMs?: number } = {},
): Limits {
  if (config.redisUrl === undefined) {
    const streamSlots = new MemoryStreamSlots(config.maxStreamsPerToken);
    return { redis: undefined, streamSlots, start: async () => {}, close: () => streamSlots.close() };
  }
  const redis = new Redis(config.redisUrl, {
    connectionName: 'tocsin-limits',
    lazyConnect: true,
    // As the store: fail fast (a 503 now) rather than queue while Redis is away.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 5_000,
    connectTimeout: 3_000,
    disconnectTimeout: 500,
    // Every publish asks Redis: one loop turn's checks share one write.
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000) + Math.floor(Math.random() * 100),
  });
  redis.on('error', () => {});
  const streamSlots = new RedisStreamSlots({
    redis,
    max: config.maxStreamsPerToken,
    ...(options.streamSlotTtlMs !== undefined && { ttlMs: options.streamSlotTtlMs }),
  });
  return {
    redis,
    streamSlots,
    async start() {
      await redis.connect().catch(() => {});
    },
    async close() {
      await streamSlots.close().catch(() => {});
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
