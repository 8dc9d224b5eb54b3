import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './client-wait.ts';
import { type RunResult, runNode } from './process.ts';

const BIN = fileURLToPath(new URL('../../bin/tocsin.js', import.meta.url));

/** A minimal environment: nothing of the developer's session (keychain, display, bus) leaks in. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export type CliResult = RunResult;

/** Runs `tocsin ARGS` to completion, with `input` on stdin. */
export function runTocsin(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  return runNode([BIN, ...args], { env, input });
}

/** A long-running `tocsin listen`. */
export class TocsinProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exit: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      this.stdout += c;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      this.stderr += c;
    });
    this.#exit = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter((line) => line !== '');
  }

  waitForStderr(pattern: RegExp, what = String(pattern)): Promise<true> {
    return waitFor(`stderr ${what} (got: ${this.stderr})`, () => pattern.test(this.stderr), 15_000);
  }

  waitForLines(count: number): Promise<string[]> {
    return waitFor(
      `${count} stdout lines`,
      () => (this.lines.length >= count ? this.lines : undefined),
      15_000,
    );
  }

  exited(): Promise<number | null> {
    return this.#exit;
  }

  /** Ctrl-C, then the exit code. */
  async interrupt(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.#exit;
    clearTimeout(timer);
    return code;
  }
}
