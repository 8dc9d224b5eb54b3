/**
 * Measure 5 — the client agent (client/agent.ts), one real Agent in its own process against Tocsin:
 *   resume → live: the agent is suspended (its stream closed, as on system sleep), `missed` alarms are
 *     published meanwhile, then 'resume' is signalled; time until it is live again with the replay
 *     done and every missed alarm delivered;
 *   half-open: the agent reaches the server through a proxy that silences the connection without
 *     closing it; time until the agent's heartbeat watchdog declares the stream dead (≈ 2.5 ×
 *     heartbeat by design; measured with a short heartbeat, reported with its multiple);
 *   idle CPU: the agent's process CPU time over a window while live and idle (15 s heartbeat);
 *   outage → live: through a proxy, every connection is cut and new ones refused for an outage, then
 *     let through again; time from the path being back until the agent is live;
 *   latency through a cutting proxy: the proxy ends every connection at a maximum age while alarms
 *     are published at a steady pace; publish → agent receipt, lost alarms counted;
 *   fleet arrivals: 10 000 agents' reconnect schedules after an outage, drawn from the agent's own
 *     policy (decideReconnect): how the returning fleet spreads over the seconds after recovery.
 */

import { DEFAULT_RECONNECT } from '../../client/backoff.ts';
import { decideReconnect } from '../../client/reconnect.ts';
import { startFaultProxy } from '../../test/helpers/client-proxy.ts';
import { monoMs, sleep } from '../clock.ts';
import type { AgentBenchConfig } from '../config.ts';
import type { AgentRequest, AgentSetup, ResumeResult } from '../load/agent-worker.ts';
import { cpuNs } from '../proc-stats.ts';
import { BENCH_TOPIC, Publisher } from '../publisher.ts';
import { type RunningServer, startServer, TARGETS } from '../targets.ts';
import { WorkerRpc } from '../worker-rpc.ts';

const WORKER = new URL('../load/agent-worker.ts', import.meta.url);
const MISSED_PER_SLEEP = 100;

export interface AgentResult {
  resumeToLiveMs: number[];
  missedPerResume: number;
  halfOpenDetectMs: number[];
  halfOpenHeartbeatMs: number;
  idleCpuPercent: number;
  idleWindowMs: number;
  /** [outage ms, path back → live ms] */
  outageRecoveryMs?: [number, number][];
  cutEveryMs?: number;
  cutLatencyMs?: number[];
  cutPublished?: number;
  cutLost?: number;
  fleet?: FleetArrivals[];
}

export interface FleetArrivals {
  agents: number;
  outageMs: number;
  serverRetryMs: number;
  /** Agents arriving in each second after recovery: [0, 1), [1, 2), ... */
  perSecond: number[];
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** Connection attempts per second against the down server, over the outage's last 10 s. */
  attemptsPerSecondWhileDown: number;
}

/** Each agent loses a live stream at 0 (the server died); the server answers again from `outageMs`. */
export function simulateFleet(agents: number, outageMs: number, serverRetryMs: number): FleetArrivals {
  const arrivals: number[] = [];
  let lateAttempts = 0;
  for (let a = 0; a < agents; a++) {
    let t = 0;
    let failures = 0;
    let wasLive = true;
    for (;;) {
      const d = decideReconnect(
        wasLive ? { kind: 'server-closed' } : { kind: 'network-error', message: 'ECONNREFUSED' },
        { wasLive, failures, serverRetryMs, networkOffline: false, sentCursor: true },
        DEFAULT_RECONNECT,
        Math.random,
      );
      if (d.action !== 'retry') throw new Error(`unexpected decision ${d.action}`);
      t += d.delayMs;
      failures = d.failures;
      wasLive = false;
      if (t >= outageMs) {
        arrivals.push(t - outageMs);
        break;
      }
      if (t >= outageMs - 10_000) lateAttempts++;
    }
  }
  arrivals.sort((x, y) => x - y);
  const perSecond: number[] = [];
  for (const ms of arrivals) {
    const s = Math.floor(ms / 1000);
    while (perSecond.length <= s) perSecond.push(0);
    perSecond[s] = (perSecond[s] ?? 0) + 1;
  }
  const at = (q: number) => arrivals[Math.min(arrivals.length - 1, Math.floor(q * arrivals.length))] ?? 0;
  return {
    agents,
    outageMs,
    serverRetryMs,
    perSecond,
    medianMs: at(0.5),
    p99Ms: at(0.99),
    maxMs: arrivals.at(-1) ?? 0,
    attemptsPerSecondWhileDown: lateAttempts / Math.min(10, outageMs / 1000),
  };
}

async function outageRecovery(config: AgentBenchConfig, log: (line: string) => void) {
  const server = await startServer(TARGETS.tocsin, { heartbeatMs: 15_000 });
  const proxy = await startFaultProxy(`http://${server.host}:${server.port}`);
  try {
    return await withAgent(server, Number(new URL(proxy.url).port), async (agent) => {
      const results: [number, number][] = [];
      for (const outageMs of config.outagesMs) {
        // The server is gone: what was open ends, new connections are refused.
        proxy.setMode('refuse');
        proxy.cut();
        await agent.call({ op: 'await-not-live', timeoutMs: 10_000 });
        await sleep(outageMs);
        const back = monoMs();
        proxy.setMode('forward');
        const liveAt = await agent.call<number>({ op: 'await-live', timeoutMs: 60_000 });
        results.push([outageMs, liveAt - back]);
      }
      log(
        `    outage → live: ${results.map(([o, ms]) => `${(o / 1000).toFixed(0)} s outage: ${ms.toFixed(0)} ms`).join(', ')}`,
      );
      return results;
    });
  } finally {
    await proxy.close();
    await server.stop();
  }
}

async function cuttingProxy(config: AgentBenchConfig, log: (line: string) => void) {
  const server = await startServer(TARGETS.tocsin, { heartbeatMs: 15_000 });
  const proxy = await startFaultProxy(`http://${server.host}:${server.port}`);
  const publisher = await Publisher.start(server);
  try {
    return await withAgent(server, Number(new URL(proxy.url).port), async (agent) => {
      proxy.cutEvery(config.cutEveryMs);
      proxy.cut();
      await agent.call({ op: 'await-live', timeoutMs: 15_000 });
      await agent.call({ op: 'receipts' });
      const sent = new Map<number, number>();
      const until = monoMs() + config.cutWindowMs;
      while (monoMs() < until) {
        const r = await publisher.single();
        sent.set(r.id, r.sentAt);
        await sleep(config.cutPublishGapMs * (0.5 + Math.random()));
      }
      // Let the last ones arrive (through at most one more cut).
      await sleep(Math.min(config.cutEveryMs, 15_000));
      const receipts = await agent.call<[number, number][]>({ op: 'receipts' });
      const got = new Map(receipts);
      const latency: number[] = [];
      let lost = 0;
      for (const [id, at] of sent) {
        const received = got.get(id);
        if (received === undefined) lost++;
        else latency.push(received - at);
      }
      const sorted = [...latency].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      log(
        `    latency through a proxy cutting every ${config.cutEveryMs / 1000} s: p50 ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, lost ${lost}/${sent.size}`,
      );
      return { latency, published: sent.size, lost };
    });
  } finally {
    publisher.stop();
    await proxy.close();
    await server.stop();
  }
}

async function withAgent<T>(
  server: RunningServer,
  port: number,
  body: (agent: WorkerRpc<AgentRequest>) => Promise<T>,
): Promise<T> {
  const setup: AgentSetup = {
    server: `http://${server.host}:${port}`,
    token: server.token,
    topics: [BENCH_TOPIC],
  };
  const agent = await WorkerRpc.start<AgentRequest>(WORKER, setup);
  try {
    await agent.call({ op: 'start', timeoutMs: 10_000 });
    return await body(agent);
  } finally {
    await agent.call({ op: 'stop' }).catch(() => {});
    agent.stop();
  }
}

async function resumeAndIdle(config: AgentBenchConfig, log: (line: string) => void) {
  const server = await startServer(TARGETS.tocsin, { heartbeatMs: 15_000 });
  const publisher = await Publisher.start(server);
  try {
    return await withAgent(server, server.port, async (agent) => {
      const resumeToLiveMs: number[] = [];
      for (let i = 0; i < config.resumes; i++) {
        await agent.call({ op: 'suspend' });
        const missed = await publisher.burst(MISSED_PER_SLEEP, 8);
        const lastId = missed.ids.at(-1) as number;
        const r = await agent.call<ResumeResult>({ op: 'resume', lastId, timeoutMs: 10_000 });
        resumeToLiveMs.push(Math.max(r.liveAt, r.caughtUpAt) - r.resumedAt);
      }
      log(`    resume → live: ${resumeToLiveMs.map((ms) => ms.toFixed(0)).join(', ')} ms`);
      await sleep(1_000);
      const pid = agent.pid as number;
      const before = cpuNs(pid);
      const started = monoMs();
      await sleep(config.idleCpuWindowMs);
      const idleWindowMs = monoMs() - started;
      const idleCpuPercent = ((cpuNs(pid) - before) / 1e6 / idleWindowMs) * 100;
      log(`    idle CPU over ${(idleWindowMs / 1000).toFixed(0)} s: ${idleCpuPercent.toFixed(3)}%`);
      return { resumeToLiveMs, idleCpuPercent, idleWindowMs };
    });
  } finally {
    publisher.stop();
    await server.stop();
  }
}

async function halfOpen(config: AgentBenchConfig, log: (line: string) => void): Promise<number[]> {
  const server = await startServer(TARGETS.tocsin, { heartbeatMs: config.halfOpenHeartbeatMs });
  const proxy = await startFaultProxy(`http://${server.host}:${server.port}`);
  try {
    return await withAgent(server, Number(new URL(proxy.url).port), async (agent) => {
      const detect: number[] = [];
      for (let i = 0; i < config.halfOpenRepeats; i++) {
        // Start from a settled live stream, at a random point of the heartbeat cycle.
        await sleep(config.halfOpenHeartbeatMs * (1 + Math.random()));
        const frozen = proxy.open;
        proxy.freeze();
        const t0 = monoMs();
        if (frozen === 0) throw new Error('the agent had no connection through the proxy');
        const left = await agent.call<{ at: number; status: string; reason: string }>({
          op: 'await-not-live',
          timeoutMs: config.halfOpenHeartbeatMs * 10,
        });
        if (left.reason !== 'heartbeat-timeout') throw new Error(`the agent left live for ${left.reason}`);
        detect.push(left.at - t0);
        await agent.call({ op: 'await-live', timeoutMs: 15_000 });
      }
      log(
        `    half-open detected after ${detect.map((ms) => ms.toFixed(0)).join(', ')} ms (heartbeat ${config.halfOpenHeartbeatMs} ms)`,
      );
      return detect;
    });
  } finally {
    await proxy.close();
    await server.stop();
  }
}

export async function measureAgent(
  config: AgentBenchConfig,
  log: (line: string) => void,
): Promise<AgentResult> {
  const { resumeToLiveMs, idleCpuPercent, idleWindowMs } = await resumeAndIdle(config, log);
  const halfOpenDetectMs = await halfOpen(config, log);
  const outageRecoveryMs = await outageRecovery(config, log);
  const cut = await cuttingProxy(config, log);
  const fleet = [30_000, 300_000].map((outageMs) => simulateFleet(10_000, outageMs, 3_000));
  for (const f of fleet)
    log(
      `    fleet of ${f.agents} after a ${f.outageMs / 1000} s outage: median ${f.medianMs.toFixed(0)} ms, p99 ${f.p99Ms.toFixed(0)} ms, max ${f.maxMs.toFixed(0)} ms; per second: ${f.perSecond.join(' ')}`,
    );
  return {
    outageRecoveryMs,
    cutEveryMs: config.cutEveryMs,
    cutLatencyMs: cut.latency,
    cutPublished: cut.published,
    cutLost: cut.lost,
    fleet,
    resumeToLiveMs,
    missedPerResume: MISSED_PER_SLEEP,
    halfOpenDetectMs,
    halfOpenHeartbeatMs: config.halfOpenHeartbeatMs,
    idleCpuPercent,
    idleWindowMs,
  };
}
