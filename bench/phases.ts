/**
 * One pass of the measures against one server kind. Each phase gets a fresh server process (and
 * fresh data dir), its own subscriber workers and publisher, and stops them all whatever happens:
 *   idle      — measure 1, with a short heartbeat to time heartbeat rounds;
 *   streams   — measures 2 and 4 (fan-out 1k, 10k, then the storm on the same 10k), default heartbeat;
 *   publish   — measure 3, no subscribers.
 */
import type { BenchConfig } from './config.ts';
import { type AlarmCursor, type FanoutResult, measureFanout } from './measures/fanout.ts';
import { type IdleResult, measureIdle } from './measures/idle.ts';
import { measureStorm, type StormResult, stormServer } from './measures/storm.ts';
import { measureThroughput, type ThroughputPoint } from './measures/throughput.ts';
import { BENCH_TOPIC, Publisher } from './publisher.ts';
import { SubscriberPool } from './subscribers.ts';
import { type RunningServer, type ServerOptions, startServer, type TargetSpec } from './targets.ts';

export interface PassResult {
  target: TargetSpec['name'];
  run: number;
  idle?: IdleResult;
  fanout: FanoutResult[];
  /** All streams back in the same instant. */
  storm?: StormResult;
  /** Streams back after the agent's backoff (jitter), as real clients come back. */
  agentStorm?: StormResult;
  throughput: ThroughputPoint[];
  errors: string[];
}

/** Streams one load worker may hold: its own fd limit, less room for pipes and the like. */
export function streamsPerWorker(fdLimit: number): number {
  return Math.max(100, Math.min(12_000, fdLimit - 500));
}

async function withServer<T>(
  spec: TargetSpec,
  options: ServerOptions,
  body: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const server = await startServer(spec, options);
  try {
    return await body(server);
  } catch (error) {
    const log = server.stderr().trim().split('\n').slice(-5).join('\n');
    throw new Error(`${(error as Error).message}${log === '' ? '' : `\n  server log tail:\n${log}`}`);
  } finally {
    await server.stop();
  }
}

async function withPool<T>(
  server: RunningServer,
  streams: number,
  fdLimit: number,
  body: (pool: SubscriberPool) => Promise<T>,
): Promise<T> {
  const workers = Math.max(2, Math.ceil(streams / streamsPerWorker(fdLimit)));
  const pool = await SubscriberPool.start(
    { host: server.host, port: server.port, token: server.token, path: `/v1/stream?topics=${BENCH_TOPIC}` },
    workers,
  );
  try {
    return await body(pool);
  } finally {
    pool.stop();
  }
}

async function withPublisher<T>(
  server: RunningServer,
  body: (publisher: Publisher) => Promise<T>,
): Promise<T> {
  const publisher = await Publisher.start(server);
  try {
    return await body(publisher);
  } finally {
    publisher.stop();
  }
}

/** A storm time for the log: "> cap" reads better than Infinity. */
const ms = (value: number) => (value === Number.POSITIVE_INFINITY ? '> cap' : `${value.toFixed(0)} ms`);

export interface PhaseContext {
  config: BenchConfig;
  fdLimit: number;
  cpuProfDir?: string;
  log: (line: string) => void;
}

function serverOptions(ctx: PhaseContext, heartbeatMs: number): ServerOptions {
  return {
    heartbeatMs,
    ...(ctx.cpuProfDir !== undefined && { cpuProfDir: ctx.cpuProfDir }),
  };
}

export function idlePhase(spec: TargetSpec, ctx: PhaseContext, steps: number[]): Promise<IdleResult> {
  const top = Math.max(...steps);
  return withServer(spec, serverOptions(ctx, ctx.config.idle.heartbeatMs), (server) =>
    withPool(server, top, ctx.fdLimit, (pool) => measureIdle(server, pool, { ...ctx.config.idle, steps })),
  );
}

export function streamsPhase(
  spec: TargetSpec,
  ctx: PhaseContext,
  only?: 'fanout' | 'storm',
): Promise<{ fanout: FanoutResult[]; storm?: StormResult; agentStorm?: StormResult }> {
  const { fanout, storm } = ctx.config;
  const top = Math.max(...fanout.sizes, storm.subscribers);
  return withServer(spec, serverOptions(ctx, ctx.config.heartbeatMs), (server) =>
    withPool(server, top, ctx.fdLimit, (pool) =>
      withPublisher(server, async (publisher) => {
        const cursor: AlarmCursor = { lastId: -1 };
        const results: FanoutResult[] = [];
        if (only !== 'storm') {
          for (const size of fanout.sizes) {
            const connected = await pool.resize(size);
            if (connected.failed > 0)
              throw new Error(
                `${connected.failed} streams failed to open: ${JSON.stringify(connected.failures)}`,
              );
            const r = await measureFanout(pool, publisher, cursor, size, fanout);
            ctx.log(
              `    fan-out ${size}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`,
            );
            results.push(r);
          }
        }
        if (only === 'fanout') return { fanout: results };
        const connected = await pool.resize(storm.subscribers);
        if (connected.failed > 0)
          throw new Error(
            `${connected.failed} streams failed to open: ${JSON.stringify(connected.failures)}`,
          );
        const runStorm = async (timing: 'agent' | 'instant') => {
          const s = await measureStorm(stormServer(server), pool, publisher, cursor, storm, timing);
          ctx.log(
            `    storm ${s.subscribers}×${s.missed} (${timing}): all caught up ${ms(s.caughtUpMs)} (median stream ${ms(s.p50CaughtUpMs)}, ` +
              `${s.notCaughtUp} not within ${s.capMs} ms), ${Math.round(s.deliveriesPerSec)} deliveries/s, lost ${s.verify.lost}, duplicates ${s.verify.duplicates}, unexpected ${s.verify.unexpected}, ` +
              `reconnects ${s.reconnects}, server closes ${s.serverCloses}, listen overflows ${s.listenOverflows}, SYN retransmits ${s.synRetransmits}, failures ${JSON.stringify(s.failures)}, CPU server ${s.serverCpuMs.toFixed(0)} ms / clients ${s.clientCpuMs.toFixed(0)} ms`,
          );
          // Server warnings during the storm are worth seeing (slow-consumer drops, store trouble).
          const warnings = server
            .stderr()
            .split('\n')
            .filter((l) => l.includes('"level":40'));
          if (warnings.length > 0) {
            const msg = (line: string) => /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 120);
            const distinct = [...new Set(warnings.map(msg))];
            ctx.log(`    server logged ${warnings.length} warnings: ${distinct.slice(0, 3).join(' | ')}`);
            s.serverWarnings = distinct;
          }
          return s;
        };
        // The agents' storm first: a storm past its cap ends with the server killed.
        const agentStorm = await runStorm('agent');
        if (agentStorm.notCaughtUp > 0) return { fanout: results, agentStorm };
        return { fanout: results, agentStorm, storm: await runStorm('instant') };
      }),
    ),
  );
}

/** Measure 3 for one server alone (the profile pass): a round of one; its failures are thrown. */
export async function publishPhase(spec: TargetSpec, ctx: PhaseContext): Promise<ThroughputPoint[]> {
  const pass: PassResult = { target: spec.name, run: 0, fanout: [], throughput: [], errors: [] };
  await publishRound([spec], ctx, [pass]);
  if (pass.errors.length > 0) throw new Error(pass.errors.join('; '));
  return pass.throughput;
}

/** Idle and streams (publish runs in its own pass); a phase that fails is recorded and the pass goes on. */
export async function runPass(
  spec: TargetSpec,
  run: number,
  ctx: PhaseContext,
  idleSteps: number[],
): Promise<PassResult> {
  const result: PassResult = { target: spec.name, run, fanout: [], throughput: [], errors: [] };
  const attempt = async (name: string, body: () => Promise<void>) => {
    const began = Date.now();
    try {
      await body();
      ctx.log(`    (${name} took ${((Date.now() - began) / 1000).toFixed(1)} s)`);
    } catch (error) {
      result.errors.push(`${name}: ${(error as Error).message}`);
      ctx.log(`    ${name} FAILED: ${(error as Error).message}`);
    }
  };
  const phases = ctx.config.phases;
  // Holding an idle stream does not involve the store: Tocsin (Redis) runs the same code as SQLite
  // there, so its idle measure is skipped to keep the bench within its time budget.
  if (phases.includes('idle') && spec.name !== 'tocsin-redis')
    await attempt('idle', async () => {
      result.idle = await idlePhase(spec, ctx, idleSteps);
      const i = result.idle;
      ctx.log(
        `    idle ${i.streams}: ${(i.rssPerStreamBytes / 1024).toFixed(2)} KiB/stream, heartbeat ${i.cpuPercentAt15s.toFixed(3)}% of a core at 15 s`,
      );
    });
  if (phases.includes('streams'))
    await attempt('streams', async () => {
      const r = await streamsPhase(spec, ctx);
      result.fanout = r.fanout;
      if (r.storm !== undefined) result.storm = r.storm;
      if (r.agentStorm !== undefined) result.agentStorm = r.agentStorm;
    });
  return result;
}

/**
 * Measure 3 for every server of a run, paired: all of them are started first, then each concurrency
 * level is measured on one after the other, so the servers' windows lie seconds apart and a drift in
 * this VM's speed (a third over minutes) lands on all of them alike rather than on whichever ran
 * during a slow minute. Idle servers cost nothing meanwhile (no streams, no publishes).
 */
export async function publishRound(
  specs: readonly TargetSpec[],
  ctx: PhaseContext,
  into: readonly PassResult[],
): Promise<void> {
  const started: { server: RunningServer; publisher: Publisher; pass: PassResult }[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const pass = into[i] as PassResult;
      try {
        const server = await startServer(spec, serverOptions(ctx, ctx.config.heartbeatMs));
        started.push({ server, publisher: await Publisher.start(server), pass });
      } catch (error) {
        pass.errors.push(`publish: ${(error as Error).message}`);
        ctx.log(`    ${spec.label}: publish FAILED to start: ${(error as Error).message}`);
      }
    }
    for (const concurrency of ctx.config.throughput.concurrency) {
      for (const { server, publisher, pass } of started) {
        try {
          const point = await measureThroughput(publisher, concurrency, ctx.config.throughput, {
            total: () => server.cpuNs(),
            store: () => server.storeCpuNs(),
          });
          pass.throughput.push(point);
          ctx.log(
            `    ${server.spec.label} publish ×${concurrency}: ${point.ackedPerSec.toFixed(0)} acked/s, server CPU ${point.cpuUsPerAck.toFixed(1)} µs per ack`,
          );
        } catch (error) {
          pass.errors.push(`publish ×${concurrency}: ${(error as Error).message}`);
          ctx.log(`    ${server.spec.label} publish ×${concurrency} FAILED: ${(error as Error).message}`);
        }
      }
    }
  } finally {
    for (const { server, publisher } of started) {
      publisher.stop();
      await server.stop();
    }
  }
}
