/**
 * Measure 5 — the client agent (client/agent.ts), one real Agent in its own process against Tocsin:
 *   resume → live: the agent is suspended (its stream closed, as on system sleep), `missed` alarms are
 *     published meanwhile, then 'resume' is signalled; time until it is live again with the replay
 *     done and every missed alarm delivered;
 *   half-open: the agent reaches the server through a proxy that silences the connection without
 *     closing it; time until the agent's heartbeat watchdog declares the stream dead (≈ 2.5 ×
 *     heartbeat by design; measured with a short heartbeat, reported with its multiple);
 *   idle CPU: the agent's process CPU time over a window while live and idle (15 s heartbeat).
 */

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
  return {
    resumeToLiveMs,
    missedPerResume: MISSED_PER_SLEEP,
    halfOpenDetectMs,
    halfOpenHeartbeatMs: config.halfOpenHeartbeatMs,
    idleCpuPercent,
    idleWindowMs,
  };
}
