import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { NAME_PATTERN, SCOPES, Scope } from '../protocol/index.ts';
import { createServer } from './app.ts';
import { ConfigError, parseServerConfig, type ServerConfigInput } from './config.ts';
import { defaultDataDir } from './paths.ts';
import { DataDirLockError } from './store/data-dir-lock.ts';
import { openStore } from './store/open.ts';
import type { TokenStore } from './store/store.ts';
import { mintToken, RECIPIENT_PATTERN } from './tokens.ts';

const USAGE = `Usage:
  tocsin-server serve [--host 127.0.0.1] [--port 8080] [--data-dir DIR] [--heartbeat-ms 15000]
                      [--retry-ms 3000] [--log-level info] [--max-streams-per-token 20]
                      [--max-message-bytes 4096] [--max-buffered-bytes 1048576]
                      [--slow-consumer-grace-ms 5000] [--keepalive-ms 45000 (ntfy endpoints)]
                      [--headers-timeout-ms 10000] [--request-timeout-ms 30000]
                      [--max-connections-per-ip 256]
                      [--history-rate 120/60000] [--history-concurrency 4/32]
                      [--publish-rate 300/60000] [--retention-days 7] [--retention-count 100000]
                      [--allow-origin ORIGIN]... [--trust-proxy] [--redis-url redis://HOST:6379]
  tocsin-server token create --user NAME --scope subscribe|publish|admin [--topics a,b]
                             [--recipients alice,ops-*] [--data-dir DIR | --redis-url URL]
      --recipients: users (or patterns with *) a publish token may send alarms to, besides its own,
      without being an admin token (which could also read everything).
  tocsin-server token list [--data-dir DIR | --redis-url URL]
  tocsin-server token revoke ID [--data-dir DIR | --redis-url URL]

The data dir defaults to TOCSIN_SERVER_DATA_DIR, else the OS's user data location
(${defaultDataDir(process.platform, process.env, homedir())}).
With --redis-url, alarms and tokens live in Redis (several instances share it) instead of the data dir.`;

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

/** `serve` on a data dir another server holds (distinct from 1, a failure, and 2, bad usage). */
export const DATA_DIR_LOCKED_EXIT = 3;

class UsageError extends Error {
  readonly code = 'usage';
}

function int(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

/**
 * --data-dir, else TOCSIN_SERVER_DATA_DIR, else the deprecated TOCSIN_DATA_DIR (which the agent also
 * used to read, for its own state: two meanings for one name), else the OS's user data location.
 */
function dataDirOf(raw: string | undefined, io: CliIo): string {
  if (raw !== undefined) return raw;
  if (io.env.TOCSIN_SERVER_DATA_DIR) return io.env.TOCSIN_SERVER_DATA_DIR;
  if (io.env.TOCSIN_DATA_DIR) {
    io.stderr('TOCSIN_DATA_DIR is deprecated: rename it to TOCSIN_SERVER_DATA_DIR (same meaning)');
    return io.env.TOCSIN_DATA_DIR;
  }
  return defaultDataDir(process.platform, io.env, homedir());
}

function serveConfig(values: Record<string, string | boolean | string[] | undefined>, io: CliIo) {
  const str = (name: string) => values[name] as string | undefined;
  const config: ServerConfigInput = { dataDir: dataDirOf(str('data-dir'), io) };
  const set = <K extends keyof ServerConfigInput>(key: K, value: ServerConfigInput[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set('host', str('host'));
  set('port', int('port', str('port')));
  set('heartbeatMs', int('heartbeat-ms', str('heartbeat-ms')));
  set('ntfyKeepaliveMs', int('keepalive-ms', str('keepalive-ms')));
  set('retryMs', int('retry-ms', str('retry-ms')));
  set('maxStreamsPerToken', int('max-streams-per-token', str('max-streams-per-token')));
  set('maxBufferedBytes', int('max-buffered-bytes', str('max-buffered-bytes')));
  set('slowConsumerGraceMs', int('slow-consumer-grace-ms', str('slow-consumer-grace-ms')));
  set('maxMessageBytes', int('max-message-bytes', str('max-message-bytes')));
  set('headersTimeoutMs', int('headers-timeout-ms', str('headers-timeout-ms')));
  set('requestTimeoutMs', int('request-timeout-ms', str('request-timeout-ms')));
  set('maxConnectionsPerIp', int('max-connections-per-ip', str('max-connections-per-ip')));
  set('logLevel', str('log-level') as ServerConfigInput['logLevel']);
  set('redisUrl', str('redis-url'));
  set('allowedOrigins', values['allow-origin'] as string[] | undefined);
  if (values['trust-proxy'] === true) config.trustProxy = true;
  const rate = str('publish-rate');
  if (rate !== undefined) {
    const match = /^([0-9]+)\/([0-9]+)$/.exec(rate);
    if (match === null) throw new UsageError('--publish-rate is MAX/WINDOW_MS, e.g. 300/60000');
    config.publishRateLimit = { max: Number(match[1]), windowMs: Number(match[2]) };
  }
  const historyRate = str('history-rate');
  if (historyRate !== undefined) {
    const match = /^([0-9]+)\/([0-9]+)$/.exec(historyRate);
    if (match === null) throw new UsageError('--history-rate is MAX/WINDOW_MS, e.g. 120/60000');
    config.historyRateLimit = { max: Number(match[1]), windowMs: Number(match[2]) };
  }
  const historyConcurrency = str('history-concurrency');
  if (historyConcurrency !== undefined) {
    const match = /^([0-9]+)\/([0-9]+)$/.exec(historyConcurrency);
    if (match === null) throw new UsageError('--history-concurrency is PER_TOKEN/TOTAL, e.g. 4/32');
    config.historyConcurrency = { perKey: Number(match[1]), total: Number(match[2]) };
  }
  const days = int('retention-days', str('retention-days'));
  const count = int('retention-count', str('retention-count'));
  if (days !== undefined || count !== undefined) {
    config.retention = {
      ...(days !== undefined && { maxAgeMs: days * 24 * 60 * 60 * 1000 }),
      ...(count !== undefined && { maxCount: count }),
    };
  }
  return config;
}

/** The flag that points the token commands at this server's store (a Redis password is not echoed). */
function storeFlag(config: { dataDir: string; redisUrl?: string | undefined }): string {
  if (config.redisUrl === undefined) return `--data-dir ${config.dataDir}`;
  const url = new URL(config.redisUrl);
  if (url.password !== '') url.password = '***';
  return `--redis-url ${url.toString()}`;
}

function curlExample(url: string, token: string): string {
  return [
    'Try it (in two terminals):',
    `  curl -N -H "Authorization: Bearer ${token}" "${url}/v1/stream?topics=backups"`,
    `  curl -H "Authorization: Bearer ${token}" -H "Title: nightly" -H "Priority: high" -d "Backup failed" ${url}/backups`,
  ].join('\n');
}

async function serve(
  values: Record<string, string | boolean | string[] | undefined>,
  io: CliIo,
): Promise<number> {
  const config = serveConfig(values, io);
  const server = createServer(config, { logStream: process.stderr });
  const { tokens } = server.context;
  let firstToken: string | undefined;
  let url: string;
  try {
    if ((await tokens.count()) === 0) {
      firstToken = (await mintToken(tokens, { user: 'admin', scope: 'admin', topics: null }, Date.now()))
        .token;
    }
    url = await server.listen();
  } catch (error) {
    // E.g. Redis unreachable at startup: release the store's connections so the process can exit.
    await server.close().catch(() => {});
    throw error;
  }
  io.stdout(`listening on ${url}`);
  if (firstToken !== undefined) {
    io.stdout(
      `\nCreated the first admin token. It is shown only this once; keep it somewhere safe:\n  ${firstToken}\n`,
    );
    io.stdout(curlExample(url, firstToken));
  } else {
    io.stdout(curlExample(url, '$TOCSIN_TOKEN'));
    io.stdout(
      `  (create a token with: tocsin-server token create ${storeFlag(server.config)} --user NAME --scope admin)`,
    );
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr(`${signal} again: exiting without waiting`);
        process.exit(130);
      }
      stopping = true;
      server.close().then(resolve, (error: unknown) => {
        io.stderr(`shutdown failed: ${String(error)}`);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** The token commands use the same store as `serve` with the same flags: SQLite, or Redis with --redis-url. */
async function withTokenStore<T>(
  where: { dataDir: string; redisUrl: string | undefined },
  io: CliIo,
  fn: (tokens: TokenStore) => Promise<T>,
): Promise<T> {
  const log = (details: object, message: string) => io.stderr(`${message}: ${JSON.stringify(details)}`);
  const store = openStore(parseServerConfig(where), { log: { info: log, warn: log, error: log } });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function token(positionals: string[], values: Record<string, unknown>, io: CliIo): Promise<number> {
  const [action, ...rest] = positionals;
  const where = {
    dataDir: dataDirOf(values['data-dir'] as string | undefined, io),
    redisUrl: values['redis-url'] as string | undefined,
  };
  switch (action) {
    case 'create': {
      const user = values.user as string | undefined;
      const parsedScope = Scope.safeParse(values.scope);
      if (user === undefined || !NAME_PATTERN.test(user)) {
        throw new UsageError('--user NAME is required (1-64 letters, digits, "_" or "-")');
      }
      if (!parsedScope.success) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}`);
      const scope = parsedScope.data;
      const rawTopics = values.topics as string | undefined;
      const topics =
        rawTopics === undefined
          ? null
          : rawTopics
              .split(',')
              .map((t) => t.trim())
              .filter((t) => t !== '');
      const bad = topics?.filter((t) => !NAME_PATTERN.test(t)) ?? [];
      if (bad.length > 0) throw new UsageError(`invalid topic name(s): ${bad.join(', ')}`);
      const rawRecipients = values.recipients as string | undefined;
      const recipients =
        rawRecipients === undefined
          ? null
          : rawRecipients
              .split(',')
              .map((r) => r.trim())
              .filter((r) => r !== '');
      const badRecipients = recipients?.filter((r) => !RECIPIENT_PATTERN.test(r)) ?? [];
      if (badRecipients.length > 0) {
        throw new UsageError(
          `invalid recipient(s): ${badRecipients.join(', ')} (user names, "*" as a wildcard)`,
        );
      }
      if (recipients !== null && scope !== 'publish') {
        throw new UsageError('--recipients is for publish tokens (admin tokens address anyone already)');
      }
      const minted = await withTokenStore(where, io, (tokens) =>
        mintToken(tokens, { user, scope, topics, recipients }, Date.now()),
      );
      io.stdout(minted.token);
      io.stderr(
        `created token ${minted.record.id} for ${user} (${scope}${topics === null ? '' : `, topics ${topics.join(',')}`}${recipients === null ? '' : `, recipients ${recipients.join(',')}`})`,
      );
      return 0;
    }
    case 'list': {
      const records = await withTokenStore(where, io, (tokens) => tokens.list());
      io.stdout(['ID', 'USER', 'SCOPE', 'TOPICS', 'CREATED', 'STATUS'].join('\t'));
      for (const r of records) {
        io.stdout(
          [
            r.id,
            r.user,
            r.scope,
            r.topics === null ? '*' : r.topics.join(','),
            new Date(r.createdAt).toISOString(),
            r.revokedAt === null ? 'active' : `revoked ${new Date(r.revokedAt).toISOString()}`,
          ].join('\t'),
        );
      }
      return 0;
    }
    case 'revoke': {
      const id = rest[0];
      if (id === undefined) throw new UsageError('token revoke needs the token ID (see token list)');
      const revoked = await withTokenStore(where, io, (tokens) => tokens.revoke(id, Date.now()));
      if (!revoked) {
        io.stderr(`no active token with ID ${id}`);
        return 1;
      }
      io.stderr(`revoked token ${id}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown token action "${action ?? ''}" (create, list or revoke)`);
  }
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'retry-ms': { type: 'string' },
        'log-level': { type: 'string' },
        'redis-url': { type: 'string' },
        'max-streams-per-token': { type: 'string' },
        'max-buffered-bytes': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'slow-consumer-grace-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'max-connections-per-ip': { type: 'string' },
        'history-rate': { type: 'string' },
        'history-concurrency': { type: 'string' },
        'publish-rate': { type: 'string' },
        'retention-days': { type: 'string' },
        'retention-count': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'trust-proxy': { type: 'boolean' },
        user: { type: 'string' },
        scope: { type: 'string' },
        topics: { type: 'string' },
        recipients: { type: 'string' },
        'keepalive-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help === true || command === undefined || command === 'help') {
      io.stdout(USAGE);
      return command === undefined && values.help !== true ? 2 : 0;
    }
    if (command === 'serve') return await serve(values, io);
    if (command === 'token') return await token(rest, values, io);
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`tocsin-server: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof DataDirLockError) {
      io.stderr(`tocsin-server: ${error.message}`);
      return DATA_DIR_LOCKED_EXIT;
    }
    if (error instanceof ConfigError) {
      io.stderr(`tocsin-server: ${error.message}`);
      return 2;
    }
    io.stderr(`tocsin-server: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}
