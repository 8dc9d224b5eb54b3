/**
 * Every process the bench starts must stop by itself, even if the bench is killed with SIGKILL and
 * cannot clean up: a forked worker exits when its IPC channel closes; any child (servers under test
 * included, via server-preload.ts) exits when it is re-parented, and after a hard lifetime cap.
 */
const MAX_LIFETIME_MS = 30 * 60_000;

export function exitWithParent(): void {
  const parent = process.ppid;
  process.on('disconnect', () => process.exit(0));
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1_000).unref();
  setTimeout(() => {
    console.error(`bench: pid ${process.pid} ran past ${MAX_LIFETIME_MS} ms; exiting`);
    process.exit(3);
  }, MAX_LIFETIME_MS).unref();
}
