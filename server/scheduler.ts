import type { AlarmStore } from './store/store.ts';

/** Scheduled alarms released per store call; a backlog after downtime drains over a few ticks. */
const RELEASE_BATCH = 500;

/**
 * Releases scheduled alarms when their time comes: every tick, whatever is due moves into the log
 * (the store makes that exactly-once across instances and crash-safe), and from there the normal
 * fan-out delivers it. After a restart the first tick sends whatever fell due while it was down.
 */
export function startScheduler(
  store: AlarmStore,
  tickMs: number,
  now: () => number,
  onError: (error: unknown) => void,
): () => void {
  let running = false;
  const tick = async () => {
    if (running) return; // a slow store: never two releases from one instance at once
    running = true;
    try {
      while ((await store.releaseDue(now(), RELEASE_BATCH)) === RELEASE_BATCH) {}
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), tickMs);
  timer.unref();
  return () => clearInterval(timer);
}
