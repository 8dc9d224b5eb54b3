import type { Writable } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { parseServerConfig, type ServerConfig, type ServerConfigInput } from './config.ts';
import type { ServerContext } from './context.ts';
import { type IntervalTimers, startHeartbeat, systemTimers } from './heartbeat.ts';
import { Metrics } from './metrics.ts';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from './problem.ts';
import { registerPublishRateLimit } from './rate-limit.ts';
import { RecentAlarms } from './recent-alarms.ts';
import { Registry } from './registry.ts';
import { startRevocationCheck } from './revocation.ts';
import { registerCors } from './routes/cors.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerHistoryRoutes } from './routes/history.ts';
import { registerNtfyRoutes } from './routes/ntfy.ts';
import { registerNtfySubscribeRoutes } from './routes/ntfy-subscribe.ts';
import { registerPublishRoutes } from './routes/publish.ts';
import { registerStreamRoutes } from './routes/stream.ts';
import { startScheduler } from './scheduler.ts';
import { openStore } from './store/open.ts';
import { type AlarmStore, StoreError, type TokenStore } from './store/store.ts';
import { sseFormat } from './stream-format.ts';

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
      ...(deps.logStream !== undefined && { stream: deps.logStream }),
    },
    // Streams live for days: per-request info logs would be noise; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    // Stale keep-alive sockets are closed on shutdown; open streams are ended by us first (preClose).
    forceCloseConnections: 'idle',
  });
  const store = deps.store ?? openStore(config, { now: deps.now, log: app.log });
  const registry = new Registry();
  const metrics = new Metrics({ bufferedBytes: () => registry.bufferedBytes() });
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
    tokens: store,
    registry,
    metrics,
    now,
    replay: replaySource,
    sse,
  };

  // Every stored alarm, in id order: into the recent window, then to the streams that may see it,
  // each format's frame encoded once.
  const unsubscribe = store.subscribe((alarm) => {
    const entry = recent.add(alarm);
    registry.broadcast(alarm, entry.frame);
    recent.settle(entry, sse);
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
    registerHistoryRoutes(scoped, ctx);
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
    if (deps.store === undefined) await store.close();
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
