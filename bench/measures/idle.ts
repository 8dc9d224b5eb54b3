/**
 * Measure 1 — idle streams held by one server process. The pool ramps through `steps`; at each, after
 * a forced full GC (bench preload, SIGUSR2) and a settle, the server's VmRSS is read. RSS per stream
 * = (RSS at the top step − RSS before any stream) / streams. Heartbeat CPU: the server runs with a
 * short heartbeat (`heartbeatMs`, e.g. 1 s) and its CPU time over a window at the top step, divided
 * by the heartbeat rounds in the window, is the cost of one round; at a 15 s heartbeat that cost
 * recurs every 15 s, so CPU share = cost / 15 s. Idle overhead (timers, GC) is included: an upper bound.
 * Over the same window the server's event-loop delay (monitorEventLoopDelay in the bench preload) is
 * recorded: its maximum is how long one heartbeat round kept the server from answering anything.
 */
import { sleep } from '../clock.ts';
import { waitForStreams } from '../health.ts';
import { cpuNs, rssBytes } from '../proc-stats.ts';
import type { SubscriberPool } from '../subscribers.ts';
import type { RunningServer } from '../targets.ts';

export interface IdleConfig {
  steps: number[];
  heartbeatMs: number;
  cpuWindowMs: number;
  settleMs: number;
}

export interface IdleStep {
  streams: number;
  rssBytes: number;
}

export interface IdleResult {
  baseRssBytes: number;
  steps: IdleStep[];
  /** Streams actually held at the top step. */
  streams: number;
  rssPerStreamBytes: number;
  /** CPU ms spent per heartbeat round at the top step. */
  heartbeatRoundMs: number;
  /** Share of one core spent on heartbeats at a 15 s interval, in percent. */
  cpuPercentAt15s: number;
  heartbeatsReceived: number;
  /**
   * Event-loop delay over the CPU window at the top step (idle streams: the heartbeat rounds are the
   * only work): the longest the server could not answer anything, and the 99th percentile.
   */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  connectFailures: Record<string, number>;
}

async function settledRss(server: RunningServer, settleMs: number): Promise<number> {
  server.gc();
  await sleep(settleMs);
  return rssBytes(server.pid);
}

export async function measureIdle(
  server: RunningServer,
  pool: SubscriberPool,
  config: IdleConfig,
): Promise<IdleResult> {
  const baseRssBytes = await settledRss(server, config.settleMs);
  const steps: IdleStep[] = [];
  const failures: Record<string, number> = {};
  for (const target of config.steps) {
    const result = await pool.resize(target);
    for (const [k, v] of Object.entries(result.failures)) failures[k] = (failures[k] ?? 0) + v;
    const open = (await pool.stats()).ready;
    // The server must agree: a stream counts only once the server holds it.
    await waitForStreams(server, open, 10_000);
    steps.push({ streams: open, rssBytes: await settledRss(server, config.settleMs) });
  }
  const top = steps.at(-1) ?? { streams: 0, rssBytes: baseRssBytes };
  const hbBefore = (await pool.stats()).heartbeats;
  await server.startLoopDelay();
  const cpuBefore = cpuNs(server.pid);
  await sleep(config.cpuWindowMs);
  const cpuMs = (cpuNs(server.pid) - cpuBefore) / 1e6;
  const loopDelay = await server.stopLoopDelay();
  const heartbeatsReceived = (await pool.stats()).heartbeats - hbBefore;
  const rounds = config.cpuWindowMs / config.heartbeatMs;
  const heartbeatRoundMs = cpuMs / rounds;
  return {
    baseRssBytes,
    steps,
    streams: top.streams,
    rssPerStreamBytes: top.streams === 0 ? Number.NaN : (top.rssBytes - baseRssBytes) / top.streams,
    heartbeatRoundMs,
    cpuPercentAt15s: (heartbeatRoundMs / 15_000) * 100,
    heartbeatsReceived,
    loopDelayMaxMs: loopDelay.maxMs,
    loopDelayP99Ms: loopDelay.p99Ms,
    connectFailures: failures,
  };
}
