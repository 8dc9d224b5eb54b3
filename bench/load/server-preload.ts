/**
 * Loaded into every server under test with `node --expose-gc --import`: measurement plumbing only,
 * the server's own code is untouched. It ties the server's life to the bench (orphan-guard.ts),
 * SIGUSR2 runs a full GC so memory is read after garbage is collected, and over the IPC channel the
 * bench can time the event loop (perf_hooks monitorEventLoopDelay, 1 ms resolution) over a window:
 * how long the server could not answer anything, e.g. during its heartbeat rounds.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { exitWithParent } from './orphan-guard.ts';

exitWithParent();
const gc = (globalThis as { gc?: () => void }).gc;
if (gc !== undefined) process.on('SIGUSR2', () => gc());

export interface EventLoopDelay {
  maxMs: number;
  p99Ms: number;
  meanMs: number;
}

if (process.send !== undefined) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  process.on('message', (message: { op?: string }) => {
    if (message.op === 'eld-start') {
      histogram.reset();
      histogram.enable();
      process.send?.({ op: 'eld-started' });
    } else if (message.op === 'eld-stop') {
      histogram.disable();
      // The histogram is in ns and includes the 1 ms timer period itself.
      const value: EventLoopDelay = {
        maxMs: histogram.max / 1e6,
        p99Ms: histogram.percentile(99) / 1e6,
        meanMs: histogram.mean / 1e6,
      };
      process.send?.({ op: 'eld', value });
    }
  });
  // The channel must not keep a server alive that has closed everything else.
  process.channel?.unref();
}
