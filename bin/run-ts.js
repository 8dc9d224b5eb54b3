import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Import a TypeScript entry point. Node >= 22.18 strips types by default; 22.12-22.17 need
 * --experimental-strip-types, so there we re-run the entry once with that flag.
 */
export async function runTypeScriptEntry(entry) {
  if (process.features.typescript) {
    await import(entry.href);
    return;
  }
  const result = spawnSync(
    process.execPath,
    [
      '--experimental-strip-types',
      '--no-warnings=ExperimentalWarning',
      fileURLToPath(entry),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}
