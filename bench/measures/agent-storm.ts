/**
 * Measure 4c — the storm as the agent library makes it, at a smaller count: `agents` real Agents
 * (client/agent.ts, in a few load processes) follow Tocsin through a TCP proxy; the proxy resets every
 * connection at once (a network outage), `missed` alarms are published and acknowledged meanwhile,
 * and each agent comes back on its own (its watchdog, headers, backoff and replay). Time until every
 * agent is live holding the last missed alarm; then one more alarm (the sentinel) and every agent's
 * log is checked against the exact ids it had to receive: lost = 0 and duplicates = 0 (checks.ts).
 */

import { startFaultProxy } from '../../test/helpers/client-proxy.ts';
import { monoMs } from '../clock.ts';
import type { FleetRequest, FleetSetup } from '../load/agent-fleet-worker.ts';
import type { VerifyResult } from '../load/protocol.ts';
import { cpuNs } from '../proc-stats.ts';
import { BENCH_TOPIC, Publisher } from '../publisher.ts';
import { percentile, sortedCopy } from '../stats.ts';
import { startServer, TARGETS } from '../targets.ts';
import { WorkerRpc } from '../worker-rpc.ts';

const WORKER = new URL('../load/agent-fleet-worker.ts', import.meta.url);
const AGENTS_PER_WORKER = 250;

export interface AgentStormConfig {
  agents: number;
  missed: number;
  capMs: number;
}

export interface AgentStormResult {
  agents: number;
  missed: number;
  caughtUpMs: number;
  p50CaughtUpMs: number;
  notCaughtUp: number;
  verify: VerifyResult;
  serverCpuMs: number;
}

export async function measureAgentStorm(
  config: AgentStormConfig,
  log: (line: string) => void,
): Promise<AgentStormResult> {
  const server = await startServer(TARGETS.tocsin, { heartbeatMs: 15_000 });
  const proxy = await startFaultProxy(`http://${server.host}:${server.port}`);
  const publisher = await Publisher.start(server);
  const fleets: WorkerRpc<FleetRequest>[] = [];
  try {
    const workers = Math.ceil(config.agents / AGENTS_PER_WORKER);
    for (let w = 0; w < workers; w++) {
      const count = Math.floor(config.agents / workers) + (w < config.agents % workers ? 1 : 0);
      const setup: FleetSetup = { server: proxy.url, token: server.token, topics: [BENCH_TOPIC], count };
      fleets.push(await WorkerRpc.start<FleetRequest>(WORKER, setup));
    }
    const all = <T>(request: FleetRequest) => Promise.all(fleets.map((f) => f.call<T>(request)));
    const notLive = (await all<number>({ op: 'start', timeoutMs: 60_000 })).reduce((a, b) => a + b, 0);
    if (notLive > 0) throw new Error(`${notLive} agents did not go live`);
    const baseline = await publisher.single();
    const base = (await all<number[]>({ op: 'await', lastId: baseline.id, timeoutMs: 30_000 })).flat();
    if (base.some(Number.isNaN)) throw new Error('agents missed the baseline alarm');

    await all({ op: 'log' });
    const cpuBefore = cpuNs(server.pid);
    const t0 = monoMs();
    proxy.reset();
    const missed = await publisher.burst(config.missed, 16);
    if (missed.failed > 0)
      throw new Error(
        `${missed.failed} of the missed alarms were not acknowledged (${JSON.stringify(missed.failures)})`,
      );
    const lastMissed = missed.ids.at(-1) as number;
    const times = (await all<number[]>({ op: 'await', lastId: lastMissed, timeoutMs: config.capMs })).flat();
    const serverCpuMs = (cpuNs(server.pid) - cpuBefore) / 1e6;
    const perAgent = times.map((t) => (Number.isNaN(t) ? Number.POSITIVE_INFINITY : t - t0));
    const sorted = sortedCopy(perAgent);
    const notCaughtUp = perAgent.filter((t) => t === Number.POSITIVE_INFINITY).length;
    // One more alarm: once every agent has it, any duplicate of an earlier one would have arrived.
    const sentinel = await publisher.single();
    if (notCaughtUp === 0) await all({ op: 'await', lastId: sentinel.id, timeoutMs: 10_000 });
    const results = await all<VerifyResult>({ op: 'verify', expected: [...missed.ids, sentinel.id] });
    const verify = results.reduce((a, r) => ({
      streams: a.streams + r.streams,
      delivered: a.delivered + r.delivered,
      incomplete: a.incomplete + r.incomplete,
      lost: a.lost + r.lost,
      duplicates: a.duplicates + r.duplicates,
      unexpected: a.unexpected + r.unexpected,
      outOfOrder: a.outOfOrder + r.outOfOrder,
    }));
    const result: AgentStormResult = {
      agents: perAgent.length,
      missed: missed.ids.length,
      caughtUpMs: sorted[sorted.length - 1] as number,
      p50CaughtUpMs: percentile(sorted, 50),
      notCaughtUp,
      verify,
      serverCpuMs,
    };
    log(
      `    agent storm ${result.agents}×${result.missed}: all caught up ${result.caughtUpMs.toFixed(0)} ms (median ${result.p50CaughtUpMs.toFixed(0)} ms, ` +
        `${notCaughtUp} not within ${config.capMs} ms), lost ${verify.lost}, duplicates ${verify.duplicates}, CPU server ${serverCpuMs.toFixed(0)} ms`,
    );
    return result;
  } finally {
    await Promise.all(fleets.map((f) => f.call({ op: 'stop' }).catch(() => {})));
    for (const f of fleets) f.stop();
    publisher.stop();
    await proxy.close();
    await server.stop();
  }
}
