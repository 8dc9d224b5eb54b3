/**
 * Measure 4 — reconnect storm. `subscribers` streams, all at the same cursor, drop at once (TCP reset,
 * as when a network or the server's host goes away); `missed` alarms are published and acknowledged
 * while they are away; then every stream reconnects as the agent would (its headers: Last-Event-ID
 * with its cursor and its X-Tocsin-Client id; its timing: client/backoff.ts, full jitter over the
 * server's `retry:`) while a trickle of new alarms keeps arriving. A stream is caught up once it holds the last
 * missed alarm and its `event: ready` (replay done, live). Storm time = until the last one is, or
 * "> cap" (then the load is dropped and the server killed, to keep the bench bounded). Then every
 * stream's log is compared with the missed + trickle ids (a stream cut off at the cap on what it got
 * so far): lost = 0 and duplicates = 0 are asserted by the bench. A stream the server closes or
 * refuses meanwhile reconnects from its cursor after the agent's backoff (Retry-After honoured).
 */
import { monoMs, sleep } from '../clock.ts';
import { health } from '../health.ts';
import type { VerifyResult } from '../load/protocol.ts';
import { listenCounters } from '../netstat.ts';
import { cpuNs } from '../proc-stats.ts';
import type { Publisher } from '../publisher.ts';
import { percentile, sortedCopy } from '../stats.ts';
import type { SubscriberPool } from '../subscribers.ts';
import type { RunningServer } from '../targets.ts';
import type { AlarmCursor } from './fanout.ts';

export interface StormConfig {
  subscribers: number;
  missed: number;
  trickle: number;
  trickleGapMs: number;
  /**
   * The `retry:` every server under test announces (their default, 3 s): the unit of the agent's
   * backoff, so streams come back spread over [0, retryMs) as a fleet of agents does.
   */
  retryMs: number;
  /**
   * How long the bench waits for everyone to catch up. Past it the storm is reported as "> cap" with
   * how many streams made it, and streams still catching up are checked on what they got so far.
   * It keeps `npm run bench` bounded; set it several times above the 5 s target.
   */
  capMs: number;
}

/** The server side of a storm: one process, or several instances behind nginx (measures/scale.ts). */
export interface StormServer {
  /** CPU time of the server side (every process, all threads), ns. */
  cpuNs(): number;
  /** Streams the server side holds now. */
  streams(): Promise<number>;
  /** Ends it at once, when a storm went past its cap. */
  kill(): Promise<void>;
  /** Its latest warnings and errors (log lines), to say why a publish was refused. */
  warnings(): string[];
}

export function stormServer(server: RunningServer): StormServer {
  return {
    cpuNs: () => cpuNs(server.pid),
    streams: async () => (await health(server)).streams,
    kill: () => server.kill(),
    warnings: () => warningsIn(server.stderr()),
  };
}

/** pino's warn (40) and above, the last few: what a server said when it refused something. */
export function warningsIn(log: string): string[] {
  return log
    .split('\n')
    .filter((line) => /"level":(4|5|6)0\b/.test(line))
    .slice(-3);
}

async function waitForStreams(server: StormServer, streams: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await server.streams()) === streams) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

export interface StormResult {
  /** How the streams came back: all at once, or after the agent's backoff. */
  timing: 'agent' | 'instant';
  subscribers: number;
  missed: number;
  /** ms from the reconnect instant until the last stream was caught up (+∞: not all within the cap). */
  caughtUpMs: number;
  capMs: number;
  /** Alarm deliveries per second the server achieved until all caught up (or the cap). */
  deliveriesPerSec: number;
  p50CaughtUpMs: number;
  notCaughtUp: number;
  verify: VerifyResult;
  reconnects: number;
  serverCloses: number;
  gaps: number;
  /** Handshakes the kernel dropped for a full accept queue during the storm (machine-wide counter). */
  listenOverflows: number;
  synRetransmits: number;
  /** CPU time (ms, all threads) the server and the subscriber workers spent from reconnect to caught up. */
  serverCpuMs: number;
  clientCpuMs: number;
  /** Distinct warning messages the server logged during the phase (filled in by the caller). */
  serverWarnings?: string[];
  /** Why streams failed or were closed during the storm (reason → count), e.g. http-503. */
  failures: Record<string, number>;
}

export async function measureStorm(
  server: StormServer,
  pool: SubscriberPool,
  publisher: Publisher,
  cursor: AlarmCursor,
  config: StormConfig,
  timing: 'agent' | 'instant',
): Promise<StormResult> {
  // Everyone at one cursor: one alarm all streams receive.
  const baseline = await pool.watch(cursor.lastId);
  cursor.lastId = (await publisher.single()).id;
  const base = await baseline(30_000);
  if (base.missing > 0) throw new Error(`${base.missing} streams missed the baseline alarm`);

  await publisher.prepareTrickle(config.trickle);
  const before = await pool.stats();
  await pool.startLog();
  await pool.drop();
  if (!(await waitForStreams(server, 0, 10_000)))
    throw new Error('the server still counts streams after the drop');

  const missed = await publisher.burst(config.missed, 16);
  if (missed.failed > 0)
    throw new Error(
      `${missed.failed} of the missed alarms were not acknowledged (${JSON.stringify(missed.failures)})`,
    );
  const lastMissed = missed.ids.at(-1) as number;
  const caughtUp = await pool.watch(lastMissed - 1, true);

  const kernelBefore = listenCounters();
  const clientCpu = () => pool.pids.reduce((n, pid) => n + cpuNs(pid), 0);
  const cpuBefore = { server: server.cpuNs(), client: clientCpu() };
  const t0 = monoMs();
  await pool.reconnect(true, config.retryMs, timing);
  const trickle = publisher.trickle(config.trickle, config.trickleGapMs, config.capMs + 30_000);
  const seen = await caughtUp(config.capMs);
  const kernelAfter = listenCounters();
  const serverCpuMs = (server.cpuNs() - cpuBefore.server) / 1e6;
  const clientCpuMs = (clientCpu() - cpuBefore.client) / 1e6;
  const atCap = await pool.stats();

  // A stream not caught up by the cap counts as +∞, so the median is "> cap" when most did not make it.
  const perStream = seen.times.map((t) => (Number.isNaN(t) ? Number.POSITIVE_INFINITY : t - t0));
  const sorted = sortedCopy(perStream);
  const notCaughtUp = perStream.filter((ms) => ms === Number.POSITIVE_INFINITY).length;
  // Past the cap the storm is over for the bench: the streams are dropped (their logs stay) and the
  // server, still working through the backlog, is killed. Live alarms it had not acknowledged by then
  // are left out of the expected ids (if one did arrive it shows as "unexpected", not as lost).
  if (notCaughtUp > 0) {
    await pool.drop();
    await server.kill();
  }
  const live = await trickle;
  if (notCaughtUp === 0 && live.failed > 0) {
    throw new Error(
      `${live.failed} live alarms during the storm were not acknowledged (${JSON.stringify(live.failures)}); ` +
        `server said: ${server.warnings().join(' | ') || 'nothing'}`,
    );
  }
  const trickleIds = live.ids;

  // Let the trickle's last alarm reach everyone (when all caught up), then compare the logs.
  const lastTrickle = trickleIds.at(-1) ?? lastMissed;
  if (notCaughtUp === 0) {
    const tail = await pool.watch(lastTrickle - 1);
    await tail(10_000);
  }
  cursor.lastId = lastTrickle;
  const verify = await pool.verify([...missed.ids, ...trickleIds].sort((a, b) => a - b));
  const windowMs = notCaughtUp === 0 ? (sorted[sorted.length - 1] as number) : config.capMs;
  return {
    timing,
    subscribers: perStream.length,
    missed: missed.ids.length,
    caughtUpMs: sorted[sorted.length - 1] as number,
    capMs: config.capMs,
    deliveriesPerSec: verify.delivered / (windowMs / 1000),
    p50CaughtUpMs: percentile(sorted, 50),
    notCaughtUp,
    verify,
    reconnects: atCap.reconnects - before.reconnects,
    serverCloses: atCap.serverCloses - before.serverCloses,
    gaps: atCap.gaps - before.gaps,
    serverCpuMs,
    clientCpuMs,
    failures: Object.fromEntries(
      Object.entries(atCap.failures)
        .map(([k, v]) => [k, v - (before.failures[k] ?? 0)] as const)
        .filter(([, v]) => v > 0),
    ),
    listenOverflows: kernelAfter.listenOverflows - kernelBefore.listenOverflows,
    synRetransmits: kernelAfter.synRetransmits - kernelBefore.synRetransmits,
  };
}
