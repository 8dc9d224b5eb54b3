import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './port.ts';
import { requirement } from './requirements.ts';

export const REDIS_SERVER_PATH = process.env.TOCSIN_REDIS_SERVER ?? '/usr/bin/redis-server';

/**
 * Why the Redis tests cannot run here, or null. A developer without redis-server gets a printed skip;
 * CI must never skip them (.ci/run installs redis-server), so there a missing binary fails the run.
 */
export function redisUnavailable(): string | null {
  return requirement(
    'Redis tests',
    existsSync(REDIS_SERVER_PATH)
      ? null
      : `redis-server not found at ${REDIS_SERVER_PATH} (Debian: apt-get install redis-server; Fedora: dnf install redis; macOS: brew install redis; or set TOCSIN_REDIS_SERVER)`,
  );
}

/** One PING over raw RESP: true when the server answers +PONG (not -LOADING, not refused). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  /** The redis-server process now (undefined once it exited), so a harness can kill it on exit. */
  readonly pid: number | undefined;
  /** `redis://127.0.0.1:PORT/db` */
  url(db?: number): string;
  readonly running: boolean;
  /** Ends the server: SIGTERM is a clean shutdown, SIGKILL a crash (the AOF is all that survives). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server keeps its connections open but stops answering (a partition, a stalled disk). */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port and data dir (it reloads its AOF). */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export interface RedisOptions {
  /** AOF fsync policy (default `always`: every acknowledged write is on disk, as docs/scale-out.md recommends). */
  appendfsync?: 'always' | 'everysec';
}

/** What the launched server is, for reports (the bench prints it next to its results). */
export function describeRedis(options: RedisOptions = {}): string {
  return `private redis-server (--save "" --appendonly yes --appendfsync ${options.appendfsync ?? 'always'})`;
}

/**
 * A private redis-server on a free loopback port, persisting like production should: AOF on, fsync on
 * every write, no RDB snapshots, its files in its own temporary dir.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  const launch = async () => {
    output = '';
    const proc = spawn(
      REDIS_SERVER_PATH,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        options.appendfsync ?? 'always',
        '--dir',
        dir,
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => {
      output = (output + c).slice(-4_000);
    });
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
      output = (output + c).slice(-4_000);
    });
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const server: RedisServer = {
    port,
    dir,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    get pid() {
      return server.running ? child?.pid : undefined;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop(signal = 'SIGTERM') {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async start() {
      if (server.running) return;
      await launch();
    },
    async dispose() {
      await server.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await launch();
  return server;
}
