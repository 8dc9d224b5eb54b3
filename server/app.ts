import type { Writable } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { parseServerConfig, type ServerConfig, type ServerConfigInput } from './config.ts';
import { capConnectionsPerIp } from './connection-cap.ts';
import type { ServerContext } from './context.ts';
import { type IntervalTimers, startHeartbeat, systemTimers } from './heartbeat.ts';
import { openLimits } from './limits.ts';
import { redactingLoggerOptions } from './log-redaction.ts';
import { Metrics } from './metrics.ts';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from './problem.ts';
import { registerPublishRateLimit } from './rate-limit.ts';
import { RecentAlarms } from './recent-alarms.ts';
import { Registry } from './registry.ts';
import { lazyChildLogger } from './request-logger.ts';
import { startRevocationCheck } from './revocation.ts';
import { registerCors } from './routes/cors.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerHistoryRoutes } from './routes/history.ts';
import { registerNtfyRoutes } from './routes/ntfy.ts';
import { registerNtfySubscribeRoutes } from './routes/ntfy-subscribe.ts';
import { registerPublishRoutes } from './routes/publish.ts';
import { registerStreamRoutes } from './routes/stream.ts';
import { startScheduler } from './scheduler.ts';
import { type DataDirLock, lockDataDir } from './store/data-dir-lock.ts';
import { secureDataDir } from './store/data-dir-mode.ts';
import { openStore } from './store/open.ts';
import { type AlarmStore, StoreError, type TokenStore } from './store/store.ts';
import { sseFormat } from './stream-format.ts';
import { TokenCache } from './token-cache.ts';

export interface ServerDeps {
  /** Where pino writes its JSON log lines (default stdout). */
  logStream?: Writable;
  timers?: IntervalTimers;
  now?: () => number;
  /** A store built by the caller (tests); default: Redis when config.redisUrl is set, else SQLite in config.dataDir. */
  store?: AlarmStore & TokenStore;
}

export interface TocsinServer {
  readonly app: FastifyInstance;
  readonly config: ServerConfig;
  readonly context: ServerContext;
  /** Starts listening; resolves with the base URL (`http://HOST:PORT`). */
  listen(): Promise<string>;
  /** One retention pass now (it also runs on a timer): the store, then the recent-alarms window. */
  prune(): Promise<number>;
  close(): Promise<void>;
}

/** Maps Fastify's own errors (by their codes) and store failures to problem details. */
function toProblem(error: FastifyError | Error): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof StoreError)
    return new HttpProblem('unavailable', 'the store is unavailable', { retryAfter: 5 });
  const { code, statusCode } = error as FastifyError;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem('payload-too-large', 'the request body is over the size limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem('unsupported-media-type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem('bad-request', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem('bad-request', 'the body is not valid JSON');
  }
  if (error instanceof SyntaxError || statusCode === 400)
    return new HttpProblem('bad-request', error.message);
  if (statusCode === 404) return new HttpProblem('not-found');
  if (statusCode === 413) return new HttpProblem('payload-too-large');
  if (statusCode === 415) return new HttpProblem('unsupported-media-type');
  return new HttpProblem('internal');
}

export function createServer(input: ServerConfigInput, deps: ServerDeps = {}): TocsinServer {
  const config = parseServerConfig(input);
  const now = deps.now ?? Date.now;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...redactingLoggerOptions,
      ...(deps.logStream !== undefined && { stream: deps.logStream }),
    },
    // Streams live for days: per-request info logs would be noise; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    trustProxy: config.trustProxy,
    // Stale keep-alive sockets are closed on shutdown; open streams are ended by us first (preClose).
    forceCloseConnections: 'idle',
    // Slow or stalled requests (headers or body) must not hold sockets: both are bounded. Node checks
    // them on an interval, kept short so a stalled socket goes within about a second of its deadline.
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(config.headersTimeoutMs / 2)),
    },
  });
  capConnectionsPerIp(app.server, config.maxConnectionsPerIp ?? (config.trustProxy ? 0 : 256), (address) =>
    app.log.debug({ address }, 'connection refused: too many open from this address'),
  );
  // One server per SQLite data dir: a second one would move cursors past alarms it never saw.
  let lock: DataDirLock | undefined;
  if (deps.store === undefined && config.redisUrl === undefined) {
    for (const { path, from, to } of secureDataDir(config.dataDir)) {
      app.log.warn({ path, from, to }, 'tightened permissions: other users could read this');
    }
    lock = lockDataDir(config.dataDir);
    if (lock.staleFrom !== undefined) {
      app.log.warn(
        { dataDir: config.dataDir, previousPid: lock.staleFrom },
        'the previous server on this data dir did not shut down cleanly; its lock was released when it died',
      );
    }
  }
  let store: AlarmStore & TokenStore;
  try {
    store = deps.store ?? openStore(config, { now: deps.now, log: app.log });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const registry = new Registry();
  const metrics = new Metrics({ bufferedBytes: () => registry.bufferedBytes() });
  const limits = openLimits(config);
  const sse = sseFormat(config.retryMs);
  const recent = new RecentAlarms(
    {
      maxAlarms: Math.min(config.recentWindow.maxAlarms, config.retention.maxCount),
      maxBytes: config.recentWindow.maxBytes,
    },
    (a, b) => store.compareIds(a, b),
  );
  const replaySource = {
    store,
    recent,
    pageSize: config.replayPageSize,
    pageBytes: config.replayPageBytes,
  };
  const ctx: ServerContext = {
    config,
    store,
    // Streams learn of revocations by the poll; requests by this cache's expiry: the same bound.
    tokens: new TokenCache(store, { maxAgeMs: config.revocationPollMs, maxEntries: 10_000 }),
    registry,
    metrics,
    limits,
    now,
    replay: replaySource,
    sse,
  };

  // Every stored alarm, in id order: into the recent window, then to the streams that may see it,
  // each format's frame encoded once, when a stream first needs it.
  const unsubscribe = store.subscribe((alarm) => {
    const entry = recent.add(alarm);
    registry.broadcast(alarm, entry.frame);
    recent.settle();
  });
  const stopHeartbeat = startHeartbeat(registry, config.heartbeatMs, deps.timers ?? systemTimers, now);
  const retention = () =>
    store.prune(now()).then(
      (removed) => {
        recent.dropOlderThan(now() - config.retention.maxAgeMs);
        return removed;
      },
      (error: unknown) => {
        app.log.warn({ err: error }, 'retention pass failed');
        return 0;
      },
    );
  const pruneTimer = setInterval(() => void retention(), config.pruneIntervalMs);
  pruneTimer.unref();
  const stopRevocationCheck = startRevocationCheck(
    registry,
    store,
    { pollMs: config.revocationPollMs, sweepMs: config.tokenRecheckMs, lookbackMs: 5 * 60_000 },
    now,
    (error) => app.log.warn({ err: error }, 'token revocation check failed'),
  );

  const stopScheduler = startScheduler(store, config.scheduling.tickMs, now, (error) =>
    app.log.warn({ err: error }, 'releasing scheduled alarms failed; retrying'),
  );

  app.decorateRequest('principal', null);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error);
    if (problem.status >= 500 && problem.code === 'internal') {
      request.log.error({ err: error }, 'request failed');
    }
    reply.headers(problem.headers());
    // Refused before its body was read (401, 403, 413…): close rather than wait for a body that may
    // trickle in forever; keep-alive would otherwise read and discard it for as long as it takes.
    if (!request.raw.complete) reply.header('connection', 'close');
    return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = new HttpProblem(
      'not-found',
      `no route for ${request.method} ${request.url.split('?')[0]}`,
    );
    return reply.code(404).type(PROBLEM_CONTENT_TYPE).send(problem.toJSON());
  });

  // Before every route: its hook must run ahead of authentication so errors carry CORS headers too.
  registerCors(app, ctx);
  app.register(async (scoped) => {
    registerHealthRoutes(scoped, ctx);
    registerStreamRoutes(scoped, ctx);
  });
  app.register(async (history) => {
    await registerHistoryRoutes(history, ctx);
  });
  app.register(async (ntfySubscribe) => registerNtfySubscribeRoutes(ntfySubscribe, ctx));
  app.register(async (publishing) => {
    await registerPublishRateLimit(publishing, ctx);
    registerPublishRoutes(publishing, ctx);
    await registerNtfyRoutes(publishing, ctx);
  });

  app.addHook('preClose', async () => {
    // A jittered retry: clients come back (to another instance, or to this one restarted) spread out,
    // neither at once nor after their own long backoff.
    registry.closeAll('shutdown', (session) =>
      session.format.shutdown(Math.round(config.shutdownRetryMs * (0.5 + Math.random()))),
    );
  });
  app.addHook('onClose', async () => {
    stopHeartbeat();
    clearInterval(pruneTimer);
    stopRevocationCheck();
    stopScheduler();
    unsubscribe();
    await limits.close();
    if (deps.store === undefined) await store.close();
    lock?.release();
  });

  return {
    app,
    config,
    context: ctx,
    async listen() {
      await retention();
      // The window is complete from the store's newest id at this point on (the fan-out listener
      // was attached before, so nothing falls between the two).
      await store.newestId().then(
        (newest) => recent.start(newest),
        (error: unknown) =>
          app.log.warn({ err: error }, 'recent-alarms window not started; replays read the store'),
      );
      await limits.start();
      // A deep accept queue (the kernel caps it at somaxconn): a reconnect storm arrives all at once.
      await app.listen({ host: config.host, port: config.port, backlog: 4096 });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    prune: retention,
    async close() {
      // In-flight requests get a grace period; then sockets that never finish (a client's spare
      // keep-alive connection that never sent a request) are cut so shutdown is bounded.
      const force = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
      force.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
    },
  };
}
