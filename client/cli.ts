// The `tocsin` command (bin/tocsin.js). The edge: the only place that reads argv, env and signals.
import { runCli } from './commands.ts';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exitCode = code;
// A keychain or D-Bus handle must not keep a finished command alive.
setTimeout(() => process.exit(code), 2_000).unref();
