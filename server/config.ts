import { z } from 'zod';
import { validationIssues } from '../protocol/index.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `*`, or a web origin as browsers send it in `Origin` (`https://host[:port]`, no path): normalised
 * (lower-case host, default port dropped) so `https://Example.com:443/` matches `https://example.com`.
 */
const AllowedOrigin = z.string().transform((raw, ctx) => {
  const value = raw.trim();
  if (value === '*') return value;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {}
  if (
    url === null ||
    !/^https?:$/.test(url.protocol) ||
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not an origin like https://example.com:8443 or *` });
    return z.NEVER;
  }
  return url.origin;
});

/** Everything the server can be told. Validated once at the edge (CLI, tests, Electron) and passed in. */
export const ServerConfig = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    dataDir: z.string().min(1),
    /** Scale-out backend; when absent the embedded SQLite store in dataDir is used. */
    redisUrl: z
      .string()
      .url()
      .refine((url) => /^rediss?:\/\//i.test(url), 'use a redis:// or rediss:// URL')
      .optional(),
    heartbeatMs: z.number().int().min(10).max(300_000).default(15_000),
    /** The `retry:` a stream announces: how long a client waits before reconnecting after a drop. */
    retryMs: z.number().int().min(0).max(300_000).default(3_000),
    /**
     * The `retry:` sent when this instance shuts down, jittered ±50% per stream: long enough that
     * clients don't spend their reconnects while it restarts, short enough to move to another
     * instance soon, spread so that they don't all come back at once.
     */
    shutdownRetryMs: z.number().int().min(0).max(60_000).default(2_000),
    /** On shutdown, how long in-flight requests may take before remaining connections are closed. */
    shutdownGraceMs: z.number().int().min(0).max(60_000).default(2_000),
    /** Cap on an alarm's message body in bytes (ntfy's default is 4 KiB too). */
    maxMessageBytes: z
      .number()
      .int()
      .min(64)
      .max(MiB)
      .default(4 * KiB),
    /**
     * Slow consumers: a stream whose unflushed bytes stay over this for slowConsumerGraceMs, or exceed
     * 4× this at any moment, is closed (the client replays on reconnect). Bounds memory per stream.
     */
    maxBufferedBytes: z
      .number()
      .int()
      .min(4 * KiB)
      .default(MiB),
    slowConsumerGraceMs: z.number().int().min(0).default(5_000),
    maxStreamsPerToken: z.number().int().min(1).default(20),
    publishRateLimit: z
      .object({
        max: z.number().int().min(1).default(300),
        windowMs: z.number().int().min(100).default(60_000),
      })
      .default({ max: 300, windowMs: 60_000 }),
    /** GET /v1/alarms per token: it reads the store, so it is rate limited like publishing. */
    historyRateLimit: z
      .object({
        max: z.number().int().min(1).default(120),
        windowMs: z.number().int().min(100).default(60_000),
      })
      .default({ max: 120, windowMs: 60_000 }),
    /** GET /v1/alarms responses in progress at once, per token and in total. */
    historyConcurrency: z
      .object({
        perKey: z.number().int().min(1).default(4),
        total: z.number().int().min(1).default(32),
      })
      .default({ perKey: 4, total: 32 }),
    retention: z
      .object({
        maxAgeMs: z
          .number()
          .int()
          .min(1_000)
          .default(7 * DAY_MS),
        maxCount: z.number().int().min(1).default(100_000),
      })
      .default({ maxAgeMs: 7 * DAY_MS, maxCount: 100_000 }),
    pruneIntervalMs: z.number().int().min(100).default(60_000),
    /** How often every token behind an open stream is looked up again (records that vanished). */
    tokenRecheckMs: z.number().int().min(50).default(30_000),
    /** Scheduled delivery (ntfy's Delay/At/In): how soon and how far ahead, and how often due ones go out. */
    scheduling: z
      .object({
        minDelayMs: z.number().int().min(0).default(10_000),
        maxDelayMs: z
          .number()
          .int()
          .min(1_000)
          .default(3 * DAY_MS),
        tickMs: z.number().int().min(10).max(60_000).default(1_000),
      })
      .default({ minDelayMs: 10_000, maxDelayMs: 3 * DAY_MS, tickMs: 1_000 }),
    /** How often ntfy's subscribe endpoints send a `keepalive` event (ntfy's default: 45 s). */
    ntfyKeepaliveMs: z.number().int().min(10).max(600_000).default(45_000),
    /** How often recent revocations are polled; a revoked token's streams close within this. */
    revocationPollMs: z.number().int().min(50).default(1_000),
    /** Alarms read from the store per page while replaying a stream older than the recent window. */
    replayPageSize: z.number().int().min(1).max(10_000).default(500),
    /** A client must send its request headers within this (slowloris). */
    headersTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    /**
     * ...and its whole request, body included, within this. A stream's request is complete once its
     * headers arrive, so streams are not cut by it.
     */
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /**
     * Open connections per client address (0: no cap). Default 256, or none with trustProxy: behind
     * a proxy every connection comes from the proxy, so the proxy must cap per client instead.
     */
    maxConnectionsPerIp: z.number().int().min(0).optional(),
    /** Bytes written per replay write; the socket drains between writes (backpressure). */
    replayPageBytes: z
      .number()
      .int()
      .min(1 * KiB)
      .default(64 * KiB),
    /** The newest alarms kept in memory, encoded, so reconnects replay without reading the store. */
    recentWindow: z
      .object({
        maxAlarms: z.number().int().min(0).default(10_000),
        maxBytes: z
          .number()
          .int()
          .min(0)
          .default(64 * MiB),
      })
      .default({ maxAlarms: 10_000, maxBytes: 64 * MiB }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Web origins allowed to call the API from a browser (CORS); '*' allows any, without credentials. */
    allowedOrigins: z.array(AllowedOrigin).default([]),
    /** Honour X-Forwarded-* from a reverse proxy (nginx). Off unless the server sits behind one. */
    trustProxy: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.headersTimeoutMs <= c.requestTimeoutMs, {
    message: 'headersTimeoutMs must not exceed requestTimeoutMs',
    path: ['headersTimeoutMs'],
  });

export type ServerConfigInput = z.input<typeof ServerConfig>;
export type ServerConfig = z.output<typeof ServerConfig>;

export class ConfigError extends Error {
  readonly code = 'invalid-config';
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid server configuration: ${issues.join('; ')}`);
    this.issues = issues;
    this.name = 'ConfigError';
  }
}

export function parseServerConfig(input: ServerConfigInput): ServerConfig {
  const result = ServerConfig.safeParse(input);
  if (!result.success) {
    throw new ConfigError(validationIssues(result.error).map((i) => `${i.path}: ${i.message}`));
  }
  return result.data;
}
