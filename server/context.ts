import type { ServerConfig } from './config.ts';
import type { Metrics } from './metrics.ts';
import type { Registry } from './registry.ts';
import type { ReplaySource } from './replay.ts';
import type { AlarmStore, TokenStore } from './store/store.ts';
import type { StreamFormat } from './stream-format.ts';

/** What route handlers share: built once by createServer and passed to each registerXRoutes. */
export interface ServerContext {
  readonly config: ServerConfig;
  readonly store: AlarmStore;
  readonly tokens: TokenStore;
  readonly registry: Registry;
  readonly metrics: Metrics;
  readonly now: () => number;
  /** The recent-alarms window and the store, as replay reads them. */
  readonly replay: ReplaySource;
  /** The native SSE format (one instance: encoded frames are cached per format). */
  readonly sse: StreamFormat;
}
