/**
 * A private Redis for the Tocsin (Redis) runs: Debian's redis-server on a free loopback port, AOF on
 * (`appendonly yes`, default `appendfsync everysec`), no RDB snapshots, its files in a temp dir. It
 * runs under a small bash guard that stops it when the bench process is gone (even after a SIGKILL
 * of the bench) and when the guard itself is told to stop.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, stop, track, trackDir } from './children.ts';

const GUARD = `parent=$1; shift
redis-server "$@" &
r=$!
trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT
while kill -0 "$parent" 2>/dev/null && kill -0 "$r" 2>/dev/null; do sleep 1 & wait $!; done
kill $r 2>/dev/null`;

const FLAGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes'];
export const REDIS_DESCRIPTION =
  'private redis-server 7 per server process (--save "" --appendonly yes, default appendfsync everysec)';

export interface PrivateRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export async function startRedis(): Promise<PrivateRedis> {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'tocsin-bench-redis-')));
  const port = await freePort();
  const args = ['--port', String(port), ...FLAGS, '--dir', dir];
  const child = track(
    spawn('bash', ['-c', GUARD, 'redis-guard', String(process.pid), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start: ${output.slice(-500)}`)),
      10_000,
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server: ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout?.removeAllListeners('data').resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      await stop(child);
      removeDir(dir);
    },
  };
}
