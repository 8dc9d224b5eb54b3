/** A deadline timer this late fired after a stretch of our own work, not after the peer's silence. */
const LATE_TIMER_MS = 100;
/** Late timers restart the deadline only this many deadlines after the write. */
const LATE_RESTARTS_WITHIN = 3;

/**
 * Calls `onSilent` once a command written now has gone `deadlineMs` unanswered; the returned function
 * settles it (answered or failed) and cancels the watch.
 *
 * The deadline measures the peer's silence, not our event loop's: a long stretch of our own work (a
 * reconnect storm) must not count against it. So it starts once the command is written (ioredis's
 * auto-pipelined commands go out from an immediate, queued before this one); a timer that fires late
 * (we were busy) starts it again, though not forever, so a loop that never catches up still gives up
 * after a few deadlines; and the verdict waits for an immediate, which runs after the loop has read
 * its sockets, so an answer already received is taken, not mistaken for silence.
 */
export function watchForSilence(deadlineMs: number, onSilent: () => void): () => void {
  let settled = false;
  let written = 0;
  let timer: NodeJS.Timeout | undefined;
  const watch = () => {
    const due = performance.now() + deadlineMs;
    timer = setTimeout(() => {
      const now = performance.now();
      if (now - due > LATE_TIMER_MS && now - written < LATE_RESTARTS_WITHIN * deadlineMs) return watch();
      setImmediate(() => {
        if (!settled) onSilent();
      });
    }, deadlineMs);
    timer.unref();
  };
  const arm = setImmediate(() => {
    written = performance.now();
    watch();
  });
  return () => {
    settled = true;
    clearImmediate(arm);
    clearTimeout(timer);
  };
}
