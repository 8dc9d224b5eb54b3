/**
 * The servers under test. Each is its own process, started with the same knobs (heartbeat interval,
 * port 0 on 127.0.0.1) and the bench's preload (orphan guard, GC on SIGUSR2), and announces itself
 * with the line `listening on http://HOST:PORT`, as `tocsin-server serve` does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RedisOptions, startRedis } from '../test/helpers/redis.ts';
import { removeDir, stop, track, trackDir, trackPid } from './children.ts';
import type { EventLoopDelay } from './load/server-preload.ts';
import { cpuNs } from './proc-stats.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./load/server-preload.ts', import.meta.url));

export type TargetName = 'tocsin' | 'tocsin-redis' | 'better-sse' | 'plain-http';

export interface TargetSpec {
  readonly name: TargetName;
  readonly label: string;
  /** Peers keep alarms in memory; Tocsin commits each to disk (or Redis) before the ack. */
  readonly durable: boolean;
}

export const TARGETS: Record<TargetName, TargetSpec> = {
  tocsin: { name: 'tocsin', label: 'Tocsin (SQLite)', durable: true },
  'tocsin-redis': { name: 'tocsin-redis', label: 'Tocsin (Redis)', durable: true },
  'better-sse': { name: 'better-sse', label: 'better-sse peer', durable: false },
  'plain-http': { name: 'plain-http', label: 'plain http peer', durable: false },
};

/** The Redis every Tocsin (Redis) server runs against: AOF fsync'd on every write, as recommended. */
export const BENCH_REDIS: RedisOptions = { appendfsync: 'always' };

export interface ServerOptions {
  heartbeatMs: number;
  /**
   * Scale-out: join this Redis (shared with other instances) instead of starting a private one.
   * Only the first instance on a fresh Redis prints the admin token; the others get it here.
   */
  shared?: { redisUrl: string; token?: string };
  /** When set, the server runs with --cpu-prof and writes its profile there on exit. */
  cpuProfDir?: string;
}

export interface RunningServer {
  readonly spec: TargetSpec;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly pid: number;
  /** CPU time (ns) of the server's threads, and of its private Redis when it has one. */
  cpuNs(): number;
  /** Of that, its private Redis's (0 without one): the share a separate Redis host would take. */
  storeCpuNs(): number;
  /** Asks the server to run a full GC (the preload's SIGUSR2 handler). */
  gc(): void;
  /** Starts timing the server's event loop (the preload's monitorEventLoopDelay). */
  startLoopDelay(): Promise<void>;
  /** Stops timing it: the delays seen since startLoopDelay. */
  stopLoopDelay(): Promise<EventLoopDelay>;
  stop(): Promise<void>;
  /** Ends it at once (SIGKILL): for a server still busy with load the bench no longer wants. */
  kill(): Promise<void>;
  /** What the server wrote to stderr (its logs), for diagnosis. */
  stderr(): string;
}

function nodeArgs(options: ServerOptions): string[] {
  const args = ['--expose-gc', '--import', PRELOAD];
  if (options.cpuProfDir !== undefined) args.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfDir);
  return args;
}

function command(
  spec: TargetSpec,
  options: ServerOptions,
  dataDir: string,
  redisUrl: string | undefined,
): string[] {
  const hb = String(options.heartbeatMs);
  switch (spec.name) {
    case 'tocsin':
    case 'tocsin-redis': {
      const args = [
        'server/main.ts',
        'serve',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
        '--heartbeat-ms',
        hb,
        // One token holds every bench stream, and publishing is not throttled.
        '--max-streams-per-token',
        '10000000',
        '--publish-rate',
        '1000000000/1000',
        // Every bench client connects from loopback.
        '--max-connections-per-ip',
        '0',
      ];
      if (spec.name === 'tocsin-redis') {
        if (redisUrl === undefined) throw new Error('tocsin-redis needs a Redis URL');
        args.push('--redis-url', redisUrl);
      }
      return args;
    }
    case 'better-sse':
      return ['bench/peers/better-sse.ts', '--port', '0', '--heartbeat-ms', hb];
    case 'plain-http':
      return ['bench/peers/plain-http.ts', '--port', '0', '--heartbeat-ms', hb];
  }
}

/** Waits for `listening on …` (and, for Tocsin's first start, the admin token printed after it). */
function waitListening(
  child: ChildProcess,
  output: { stdout: string; stderr: string },
  needToken: boolean,
): Promise<{ url: URL; token: string | undefined }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.stderr}`)), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before listening:\n${output.stderr}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output.stdout += chunk;
      const listening = /^listening on (http:\/\/\S+)$/m.exec(output.stdout);
      const token = /^\s+(tcs_\S+)$/m.exec(output.stdout);
      if (listening?.[1] !== undefined && (!needToken || token !== null)) {
        clearTimeout(timer);
        resolve({ url: new URL(listening[1]), token: token?.[1] });
      }
    });
  });
}

/** One request to the server's preload over IPC, and its answer. */
function ask<T>(child: ChildProcess, op: string, answer: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not answer ${op}`)), 10_000);
    const onMessage = (message: { op?: string; value?: unknown }) => {
      if (message.op !== answer) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.value as T);
    };
    child.on('message', onMessage);
    child.send({ op });
  });
}

export async function startServer(spec: TargetSpec, options: ServerOptions): Promise<RunningServer> {
  const dataDir = trackDir(mkdtempSync(join(tmpdir(), `tocsin-bench-${spec.name}-`)));
  const isTocsin = spec.name === 'tocsin' || spec.name === 'tocsin-redis';
  // A fresh Redis per server, like a fresh data dir: the first start prints the admin token.
  const redis =
    spec.name === 'tocsin-redis' && options.shared === undefined ? await startRedis(BENCH_REDIS) : undefined;
  if (redis !== undefined) trackPid(() => redis.pid);
  const redisUrl = options.shared?.redisUrl ?? redis?.url();
  // The peers check the same kind of bearer token (sha256, constant-time compare).
  const peerToken = `bench_${randomBytes(32).toString('base64url')}`;
  const child = track(
    spawn(process.execPath, [...nodeArgs(options), ...command(spec, options, dataDir, redisUrl)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, BENCH_TOKEN: peerToken },
    }),
  );
  const output = { stdout: '', stderr: '' };
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Bounded: a server that logs a lot must not grow the bench's memory.
    if (output.stderr.length < 256 * 1024) output.stderr += chunk;
  });
  let started: { url: URL; token: string | undefined };
  try {
    started = await waitListening(child, output, isTocsin && options.shared?.token === undefined);
  } catch (error) {
    await stop(child);
    await redis?.dispose();
    removeDir(dataDir);
    throw error;
  }
  const token = options.shared?.token ?? (isTocsin ? (started.token as string) : peerToken);
  const storeCpuNs = () => (redis?.pid === undefined ? 0 : cpuNs(redis.pid));
  return {
    spec,
    host: started.url.hostname,
    port: Number(started.url.port),
    token,
    pid: child.pid as number,
    cpuNs: () => cpuNs(child.pid as number) + storeCpuNs(),
    storeCpuNs,
    gc: () => child.kill('SIGUSR2'),
    startLoopDelay: () => ask<void>(child, 'eld-start', 'eld-started'),
    stopLoopDelay: () => ask<EventLoopDelay>(child, 'eld-stop', 'eld'),
    // A profiled server must exit normally to write its profile: SIGTERM, with time to finish.
    kill: () => stop(child, options.cpuProfDir === undefined ? 0 : 20_000),
    async stop() {
      await stop(child, 10_000);
      await redis?.dispose();
      removeDir(dataDir);
    },
    stderr: () => output.stderr,
  };
}
