import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** The first-run admin token when the data dir was empty. */
  adminToken: string | undefined;
  stdout: string;
  stderr: string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `tocsin-server serve` as its own process (the way users and crash tests need it); `at` names
 * another copy of the project (an installed one) and its entry point.
 */
export async function spawnServer(
  dataDir: string,
  args: string[] = [],
  port = 0,
  at: { root: string; entry: string; env?: NodeJS.ProcessEnv } = { root: ROOT, entry: 'server/main.ts' },
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [at.entry, 'serve', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...args],
    { cwd: at.root, stdio: ['ignore', 'pipe', 'pipe'], ...(at.env && { env: at.env }) },
  );
  const handle: ServerProcess = {
    child,
    url: '',
    adminToken: undefined,
    stdout: '',
    stderr: '',
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    handle.stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${handle.stdout}\n${handle.stderr}`)),
      15_000,
    );
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${handle.stderr}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      handle.stdout += chunk;
      const listening = /^listening on (http:\/\/\S+)$/m.exec(handle.stdout);
      // The first-run token is printed right after the listening line.
      const token = /^\s+(tcs_\S+)$/m.exec(handle.stdout);
      // The startup banner ends with the curl examples; wait for the last one's whole line.
      if (listening?.[1] !== undefined && /^ {2}curl -H .*\/backups\n/m.test(handle.stdout)) {
        handle.url = listening[1];
        handle.adminToken = token?.[1];
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return handle;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ARGS` (from the repository root) to completion, with `input` on stdin; killed after 30 s. */
export async function runNode(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.env !== undefined && { env: options.env }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs the server CLI to completion (token commands). */
export function runServerCli(args: string[]): Promise<RunResult> {
  return runNode(['server/main.ts', ...args]);
}
