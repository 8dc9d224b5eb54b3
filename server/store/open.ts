import type { ServerConfig } from '../config.ts';
import { RedisStore, type StoreLog } from './redis.ts';
import { SqliteStore } from './sqlite.ts';
import type { AlarmStore, TokenStore } from './store.ts';

export interface OpenStoreOptions {
  /** Injected clock (tests); default: the system clock for SQLite, Redis's own clock for Redis. */
  now?: () => number;
  log?: StoreLog;
}

/** The store a configuration asks for: Redis when a URL is given (scale-out), else SQLite in the data dir. */
export function openStore(
  config: Pick<ServerConfig, 'dataDir' | 'redisUrl' | 'retention'>,
  options: OpenStoreOptions = {},
): AlarmStore & TokenStore {
  if (config.redisUrl !== undefined) {
    return new RedisStore({
      url: config.redisUrl,
      retention: config.retention,
      now: options.now,
      log: options.log,
    });
  }
  return new SqliteStore({
    dataDir: config.dataDir,
    retention: config.retention,
    now: options.now,
    log: options.log,
  });
}
