/**
 * Every process the bench starts is registered here and killed when the bench ends, however it
 * ends: normal exit, an error, SIGINT/SIGTERM. (If the bench itself is SIGKILLed, the children's
 * orphan guard, load/orphan-guard.ts, stops them.)
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';

const live = new Set<ChildProcess>();
/** Processes started by helpers that keep their ChildProcess to themselves (test/helpers/redis.ts). */
const foreign = new Set<() => number | undefined>();

/** Kills that process (SIGKILL) if it is still running when the bench ends. */
export function trackPid(pid: () => number | undefined): void {
  foreign.add(pid);
}
const dirs = new Set<string>();

/** A temp dir (data dir, Redis dir) removed when the bench ends, if its owner did not remove it. */
export function trackDir(path: string): string {
  dirs.add(path);
  return path;
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
  dirs.delete(path);
}

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (exited(child)) return;
  const gone = once(child, 'exit');
  child.kill(graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

function killAll(): void {
  for (const child of live) if (!exited(child)) child.kill('SIGKILL');
  for (const pid of foreign) {
    const p = pid();
    if (p !== undefined) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

export function installCleanup(): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping ${live.size} child process(es)`);
      killAll();
      process.exit(130);
    });
  }
}
