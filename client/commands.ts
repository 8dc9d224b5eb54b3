import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Alarm, stripControlChars } from '../protocol/index.ts';
import { Agent } from './agent.ts';
import { importLegacyCursor, SqliteAgentStore } from './agent-store.ts';
import { ApiError, TocsinApi } from './api.ts';
import { type AgentConfigInput, parseAgentConfig, serverOrigin } from './config.ts';
import { CredentialError, type CredentialStore, KeytarCredentialStore } from './credentials.ts';
import { NotificationDispatcher } from './dispatcher.ts';
import { AgentError } from './errors.ts';
import type { Notifier } from './notifier.ts';
import { DbusNotifier } from './notifier-dbus.ts';
import { DEFAULT_SETTINGS } from './policy.ts';
import { promptHidden, readAll } from './prompt.ts';
import { describeState } from './state.ts';
import type { FetchFunction } from './stream.ts';

/** Exit codes, documented in the help text so scripts can rely on them. */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, keychain: 4 } as const;

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM: `listen` stops cleanly (the cursor is saved) and returns 0. */
  readonly signal?: AbortSignal;
  /** Overrides for tests; defaults are the real keychain, fetch and D-Bus notifier. */
  readonly credentials?: CredentialStore;
  readonly fetch?: FetchFunction;
  readonly notifier?: (busAddress: string | undefined) => Notifier;
}

const HELP = `tocsin: desktop alarms from a Tocsin server

Usage:
  tocsin login SERVER_URL          verify a token and keep it in the OS keychain
                                   (reads the token from stdin when piped, else asks)
  tocsin logout SERVER_URL         forget the token for SERVER_URL
  tocsin listen [SERVER_URL] [--topics a,b|*] [--json] [--notify] [--state-dir DIR]
                [--since 24h|all|none]
                                   print alarms as they arrive (one per line, or JSON
                                   lines with --json); state changes go to stderr;
                                   --notify also raises desktop notifications;
                                   --since: what the first run shows from before
                                   (default 24h). Retries every failure except a
                                   rejected token (exit 3).
  tocsin publish SERVER_URL TITLE [--body TEXT] [--topic T | --user U] [--priority 1-5]
                                   [--url URL] [--tag T]... [--json]

Environment:
  TOCSIN_SERVER     default SERVER_URL for listen
  TOCSIN_TOKEN      use this token instead of the keychain (it is not stored)
  TOCSIN_AGENT_STATE_DIR  where listen keeps its state (default: $XDG_STATE_HOME/tocsin)

Exit status: 0 ok, 1 failure, 2 usage error, 3 not signed in or token rejected,
4 the OS keychain is locked, unreachable, or its module (keytar) is not installed.
`;

class UsageError extends Error {
  readonly code = 'usage';
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // Server problem details and alarm text reach stderr too: nothing may drive the terminal.
  const say = (line: string) =>
    io.stderr.write(`tocsin: ${stripControlChars(line).replace(/[\r\n]+/g, ' ')}\n`);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'login':
        return await login(rest, io, say);
      case 'logout':
        return await logout(rest, io, say);
      case 'listen':
        return await listen(rest, io, say);
      case 'publish':
        return await publish(rest, io, say);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return reportError(error, say);
  }
}

function reportError(error: unknown, say: (line: string) => void): number {
  if (error instanceof UsageError || (error instanceof TypeError && isParseArgsError(error))) {
    say(`${error.message} (see tocsin --help)`);
    return EXIT.usage;
  }
  if (error instanceof AgentError && error.code === 'invalid-config') {
    say(error.message);
    return EXIT.usage;
  }
  if (isCredentialError(error)) {
    say(error.message);
    return EXIT.keychain;
  }
  if (error instanceof ApiError) {
    say(apiMessage(error));
    // Rejected before sending: the arguments were wrong.
    if (error.code === 'bad-request' && error.status === undefined) return EXIT.usage;
    return error.code === 'unauthorized' || error.code === 'forbidden' ? EXIT.auth : EXIT.failure;
  }
  say(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failure;
}

function isParseArgsError(error: TypeError): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function isCredentialError(error: unknown): error is CredentialError {
  return error instanceof CredentialError;
}

function apiMessage(error: ApiError): string {
  switch (error.code) {
    case 'unauthorized':
      return `the server rejected the token (${error.message})`;
    case 'forbidden':
      return `the token may not do that (${error.message})`;
    default:
      return error.message;
  }
}

function serverArg(value: string | undefined, io: CliIo): string {
  const server = value ?? io.env.TOCSIN_SERVER;
  if (server === undefined || server === '')
    throw new UsageError('SERVER_URL is required (or set TOCSIN_SERVER)');
  // Validate like the agent does, so a typo fails here with a clear message.
  return parseAgentConfig({ server, token: 'x' }).server;
}

function credentials(io: CliIo): CredentialStore {
  return io.credentials ?? new KeytarCredentialStore({ busAddress: io.env.DBUS_SESSION_BUS_ADDRESS });
}

/** The token for a server: TOCSIN_TOKEN, else the keychain. Never printed. */
async function tokenFor(server: string, io: CliIo): Promise<string | null> {
  const fromEnv = io.env.TOCSIN_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.trim();
  try {
    return await credentials(io).get(server);
  } catch (error) {
    if (!isCredentialError(error) || error.code === 'keychain-locked') throw error;
    throw new CredentialError(error.code, `${error.message}. Or set TOCSIN_TOKEN to run without a keychain`, {
      cause: error,
    });
  }
}

function notSignedIn(server: string, say: (line: string) => void): number {
  say(
    `not signed in to ${serverOrigin(server)}: run \`tocsin login ${serverOrigin(server)}\` (or set TOCSIN_TOKEN)`,
  );
  return EXIT.auth;
}

// ---- login / logout ----

async function login(args: readonly string[], io: CliIo, say: (line: string) => void): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('usage: tocsin login SERVER_URL');
  const server = serverArg(positionals[0], io);
  const token = io.stdin.isTTY
    ? await promptHidden(`Token for ${serverOrigin(server)}: `, io.stdin, io.stderr)
    : await readAll(io.stdin);
  if (token === '') throw new UsageError('no token given (pipe it on stdin or type it at the prompt)');

  const me = await new TocsinApi({ server, token, ...(io.fetch ? { fetch: io.fetch } : {}) }).me();
  const topics =
    me.topics === null ? 'any topic' : me.topics.length === 0 ? 'no topics' : me.topics.join(', ');
  try {
    await credentials(io).set(server, token);
  } catch (error) {
    if (!isCredentialError(error)) throw error;
    say(
      `the token is valid (user ${me.user}, scope ${me.scope}), but it cannot be remembered: ${error.message}`,
    );
    say('it was kept in memory only and is now forgotten; set TOCSIN_TOKEN to use it without a keychain');
    return EXIT.keychain;
  }
  io.stdout.write(`Signed in to ${serverOrigin(server)} as ${me.user} (scope ${me.scope}; ${topics}).\n`);
  return EXIT.ok;
}

/** Says what actually happened: deleted, nothing was stored, or the keychain could not be asked. */
async function logout(args: readonly string[], io: CliIo, say: (line: string) => void): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('usage: tocsin logout SERVER_URL');
  const server = serverArg(positionals[0], io);
  const origin = serverOrigin(server);
  let removed: boolean;
  try {
    removed = await credentials(io).delete(server);
  } catch (error) {
    if (!isCredentialError(error)) throw error;
    say(
      error.code === 'keychain-locked'
        ? `${error.message}; the token for ${origin} is still stored, nothing was deleted`
        : `could not reach the OS keychain, so nothing was deleted: ${error.message}`,
    );
    return EXIT.keychain;
  }
  io.stdout.write(
    removed
      ? `Signed out of ${origin}: the token was deleted from the OS keychain.\n`
      : `No token was stored for ${origin}; nothing to delete.\n`,
  );
  return EXIT.ok;
}

// ---- listen ----

/**
 * The agent's state dir. TOCSIN_DATA_DIR, which this used to read, names the server's data dir too;
 * it is no longer read here, so a machine that runs both never mixes agent state into server data.
 */
function defaultStateDir(env: CliIo['env'], say: (line: string) => void): string {
  if (env.TOCSIN_AGENT_STATE_DIR) return env.TOCSIN_AGENT_STATE_DIR;
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  const dir = join(state, 'tocsin');
  if (env.TOCSIN_DATA_DIR)
    say(
      `note: TOCSIN_DATA_DIR is the server's; listen keeps its state in ${dir} (set TOCSIN_AGENT_STATE_DIR to move it)`,
    );
  return dir;
}

/** One state file per server and topic set: two `listen`s with different topics must not share one. */
export function statePath(dataDir: string, server: string, topics: readonly string[]): string {
  return join(dataDir, 'agent', `${stateKey(server, topics)}.sqlite`);
}

function stateKey(server: string, topics: readonly string[]): string {
  const key = `${serverOrigin(server)}|${[...topics].sort().join(',')}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 20);
}

/** Where versions before the SQLite state kept the cursor (same key). */
export function legacyCursorPath(dataDir: string, server: string, topics: readonly string[]): string {
  return join(dataDir, 'cursors', `${stateKey(server, topics)}.json`);
}

/**
 * One alarm as one terminal line: time, priority, where, title, body (line breaks folded, control
 * characters removed, so a publisher cannot forge lines or send escape sequences to the terminal).
 */
export function formatAlarm(alarm: Alarm): string {
  const where = alarm.topic !== undefined ? `#${alarm.topic}` : `@${alarm.user ?? '?'}`;
  // Control characters could forge lines, move the cursor or retitle the terminal: strip them.
  const fold = (text: string) => stripControlChars(text).replace(/\s*[\r\n\t]+\s*/g, ' ');
  const body = alarm.body === undefined || alarm.body === '' ? '' : ` - ${fold(alarm.body)}`;
  const url = alarm.url === undefined ? '' : ` <${fold(alarm.url)}>`;
  return `${new Date(alarm.time).toISOString()} p${alarm.priority} ${where} ${fold(alarm.title)}${body}${url}`;
}

async function listen(args: readonly string[], io: CliIo, say: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      topics: { type: 'string' },
      json: { type: 'boolean', default: false },
      notify: { type: 'boolean', default: false },
      'state-dir': { type: 'string' },
      /** The old name of --state-dir. */
      'data-dir': { type: 'string' },
      since: { type: 'string' },
    },
  });
  if (positionals.length > 1)
    throw new UsageError('usage: tocsin listen [SERVER_URL] [--topics a,b] [--json] [--notify]');
  const server = serverArg(positionals[0], io);
  const topics =
    values.topics === undefined
      ? []
      : values.topics
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '');
  const token = await tokenFor(server, io);
  if (token === null) return notSignedIn(server, say);

  const config: AgentConfigInput = {
    server,
    token,
    topics,
    ...(values.since === undefined ? {} : { initialReplay: values.since }),
  };
  const dataDir = values['state-dir'] ?? values['data-dir'] ?? defaultStateDir(io.env, say);
  // Validate before opening anything: a bad flag is a usage error, not a half-started agent.
  parseAgentConfig(config);
  const store = new SqliteAgentStore(statePath(dataDir, server, topics));
  // Versions before the split read TOCSIN_DATA_DIR for the agent too: look for their cursor there as well.
  const legacyDirs = [dataDir, ...(io.env.TOCSIN_DATA_DIR ? [io.env.TOCSIN_DATA_DIR] : [])];
  if (legacyDirs.some((dir) => importLegacyCursor(store, legacyCursorPath(dir, server, topics))))
    say('carried the cursor of the previous version over');
  const agent = new Agent(config, {
    store,
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });

  let notifier: Notifier | null = null;
  let dispatcher: NotificationDispatcher | null = null;
  if (values.notify) {
    const busAddress = io.env.DBUS_SESSION_BUS_ADDRESS;
    notifier = io.notifier?.(busAddress) ?? new DbusNotifier({ busAddress });
    let reported = false;
    dispatcher = new NotificationDispatcher({
      notifier,
      settings: () => DEFAULT_SETTINGS,
      onError: (error) => {
        // Once is enough: alarms keep printing even when the desktop cannot show them.
        if (!reported) say(`cannot raise desktop notifications: ${(error as Error).message}`);
        reported = true;
      },
    });
    dispatcher.attach(agent);
  }

  agent.on('alarm', (alarm) => {
    io.stdout.write(`${values.json ? jsonLine(alarm) : formatAlarm(alarm)}\n`);
  });
  agent.on('backlog', (count, reason) => {
    say(
      reason === 'first-run'
        ? `${count} ${count === 1 ? 'alarm' : 'alarms'} from before this first run (${agent.config.initialReplay}) shown above as history`
        : `${count} ${count === 1 ? 'alarm' : 'alarms'} the server still holds after its reset shown above as history`,
    );
  });
  agent.on('gap', (gap) => {
    say(gap.message);
    dispatcher?.notice('Tocsin: some alarms may be missing', gap.message);
  });
  agent.on('warning', (warning) => say(`warning: ${warning.message}`));

  const exitCode = await new Promise<number>((resolve) => {
    agent.on('state', (state) => {
      say(describeState(state, Date.now()));
      // Only refused credentials stop; every other failure is retried (and said on this line).
      if (state.status === 'auth-required') {
        say(`run \`tocsin login ${serverOrigin(server)}\` to sign in again`);
        resolve(EXIT.auth);
      }
    });
    if (io.signal?.aborted) resolve(EXIT.ok);
    io.signal?.addEventListener('abort', () => resolve(EXIT.ok), { once: true });
    agent.start().catch((error: unknown) => {
      say(`cannot start: ${(error as Error).message}`);
      resolve(EXIT.failure);
    });
  });
  await dispatcher?.flush();
  await agent.stop();
  await notifier?.close();
  return exitCode;
}

/** JSON escapes C0 controls but not DEL and C1 (0x7f-0x9f), which some terminals obey: escape those too. */
export function jsonLine(alarm: Alarm): string {
  return JSON.stringify(alarm).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// ---- publish ----

async function publish(args: readonly string[], io: CliIo, say: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      body: { type: 'string' },
      topic: { type: 'string' },
      user: { type: 'string' },
      priority: { type: 'string' },
      url: { type: 'string' },
      tag: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2)
    throw new UsageError('usage: tocsin publish SERVER_URL TITLE [--topic T | --user U]');
  const server = serverArg(positionals[0], io);
  const title = positionals[1] as string;
  let priority: number | undefined;
  if (values.priority !== undefined) {
    priority = Number(values.priority);
    if (!Number.isInteger(priority) || priority < 1 || priority > 5) {
      throw new UsageError(`--priority must be 1 to 5, not "${values.priority}"`);
    }
  }
  if (values.topic === undefined && values.user === undefined)
    throw new UsageError('give --topic or --user (or both)');
  const token = await tokenFor(server, io);
  if (token === null) return notSignedIn(server, say);
  const api = new TocsinApi({ server, token, ...(io.fetch ? { fetch: io.fetch } : {}) });
  const published = await api.publish({
    title,
    ...(values.body === undefined ? {} : { body: values.body }),
    ...(values.topic === undefined ? {} : { topic: values.topic }),
    ...(values.user === undefined ? {} : { user: values.user }),
    ...(priority === undefined ? {} : { priority }),
    ...(values.url === undefined ? {} : { url: values.url }),
    ...(values.tag === undefined ? {} : { tags: values.tag }),
  });
  io.stdout.write(values.json ? `${JSON.stringify(published)}\n` : `published alarm ${published.id}\n`);
  return EXIT.ok;
}
