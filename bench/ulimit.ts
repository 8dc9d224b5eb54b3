/**
 * Open-file limit. Tens of thousands of sockets need a high RLIMIT_NOFILE, which Node cannot raise
 * itself: so `npm run bench` re-executes the bench once through `bash -c 'ulimit …; exec node …'`,
 * raising the hard limit when permitted (root with CAP_SYS_RESOURCE) and the soft limit to the hard
 * one in any case. Every child inherits it. The limit reached is reported with the results.
 */
import { spawn } from 'node:child_process';

const MARK = 'TOCSIN_BENCH_FD_RAISED';
const WANTED = 1_048_576;

/** Re-runs this process under a raised limit; resolves with its exit code, or null if already done. */
export function reexecWithRaisedFdLimit(): Promise<number> | null {
  if (process.env[MARK] === '1') return null;
  const script = `ulimit -Hn ${WANTED} 2>/dev/null; ulimit -Sn "$(ulimit -Hn)"; exec "$@"`;
  const child = spawn(
    'bash',
    ['-c', script, 'bench', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      env: { ...process.env, [MARK]: '1' },
    },
  );
  // Ctrl-C reaches the whole process group anyway; this covers a SIGTERM sent to us alone.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}
