/**
 * `npm run bench [-- --quick] [--runs N] [--targets tocsin,tocsin-redis,better-sse,plain-http]
 *                 [--only idle,streams,publish,agent] [--storm-subscribers N] [--profile] [--no-record]`
 *
 * Tocsin side by side with its peers on this machine, in one run: idle streams, fan-out latency,
 * publish throughput, reconnect storm (and the client agent). Medians of the runs with min–max,
 * ratios Tocsin ÷ peer, targets met or not, appended to bench/RESULTS.md. Exits non-zero when the
 * storm lost or duplicated an alarm, or a measure could not be taken.
 */
import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRedis } from '../test/helpers/redis.ts';
import { checkRun } from './checks.ts';
import { installCleanup } from './children.ts';
import { parseBenchArgs } from './config.ts';
import { describeMachine } from './machine.ts';
import { type AgentResult, measureAgent } from './measures/agent.ts';
import { type AgentStormResult, measureAgentStorm } from './measures/agent-storm.ts';
import { measureScale, type ScalePoint } from './measures/scale.ts';
import { type PassResult, type PhaseContext, publishRound, runPass } from './phases.ts';
import { type ProfileReport, profilePass } from './profile-pass.ts';
import { renderReport } from './report.ts';
import { checkTarget } from './target-check.ts';
import { BENCH_REDIS, ROOT, TARGETS, type TargetName } from './targets.ts';
import { reexecWithRaisedFdLimit } from './ulimit.ts';

const reexec = reexecWithRaisedFdLimit();
if (reexec !== null) process.exit(await reexec);

installCleanup();
const config = parseBenchArgs(process.argv.slice(2));
const machine = describeMachine();
const started = Date.now();
const log = (line: string) => console.log(line);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

// One server process cannot hold more sockets than its open-file limit allows.
const serverCapacity = machine.fdLimit - 200;
const idleSteps = [...new Set(config.idle.steps.map((s) => Math.min(s, serverCapacity)))];
const cappedSteps = config.idle.steps.filter((s) => s > serverCapacity);
log(
  `bench (${config.mode}): ${config.runs} run(s) × ${config.targets.join(', ')}; ` +
    `${machine.cores} cores, Node ${machine.node}, open-file limit ${machine.fdLimit}`,
);
if (cappedSteps.length > 0) {
  log(
    `  idle ramp capped at ${serverCapacity} streams (open-file limit): ${cappedSteps.join(', ')} not reachable here`,
  );
}

const notes: string[] = [];
const targets: TargetName[] = [];
for (const name of config.targets) {
  const ok = await checkTarget(TARGETS[name]);
  if (ok === true) targets.push(name);
  else notes.push(`${TARGETS[name].label} not measured: ${ok}`);
}
if (targets.includes('tocsin-redis'))
  notes.push(`Tocsin (Redis) runs against a ${describeRedis(BENCH_REDIS)} per server process.`);
for (const note of notes) log(`  ${note}`);

const passes: PassResult[] = [];
let agent: AgentResult | undefined;
let agentNote: string | undefined;
let agentStorm: AgentStormResult | undefined;
let scale: ScalePoint[] = [];
const measureErrors: string[] = [];
let profiles: ProfileReport[] = [];
// Rotate the order each run so that no server always goes first (warm caches, page cache, thermal).
const orderOf = (run: number) => targets.map((_, i) => targets[(i + run - 1) % targets.length] as TargetName);
try {
  for (let run = 1; run <= config.runs; run++) {
    for (const name of orderOf(run)) {
      log(`run ${run}/${config.runs} · ${TARGETS[name].label} (${elapsed()})`);
      const ctx: PhaseContext = { config, fdLimit: machine.fdLimit, log };
      passes.push(await runPass(TARGETS[name], run, ctx, idleSteps));
    }
  }
  if (config.phases.includes('publish')) {
    for (let run = 1; run <= config.runs; run++) {
      const order = orderOf(run);
      log(`publish ${run}/${config.runs}: ${order.map((n) => TARGETS[n].label).join(', ')} (${elapsed()})`);
      const into = order.map((name) => passes.find((p) => p.target === name && p.run === run) as PassResult);
      await publishRound(
        order.map((name) => TARGETS[name]),
        { config, fdLimit: machine.fdLimit, log },
        into,
      );
    }
  }
  if (config.phases.includes('agent')) {
    log(`client agent (${elapsed()})`);
    agent = await measureAgent(config.agent, log).catch((error: Error) => {
      agentNote = `the agent measure failed: ${error.message.split('\n')[0]}`;
      log(`  ${agentNote}`);
      measureErrors.push(agentNote);
      return undefined;
    });
    log(`agent storm (${elapsed()})`);
    agentStorm = await measureAgentStorm(config.agent.storm, log).catch((error: Error) => {
      const note = `the agent storm failed: ${error.message.split('\n')[0]}`;
      log(`  ${note}`);
      measureErrors.push(note);
      return undefined;
    });
  }
  if (config.phases.includes('scale')) {
    if (!targets.includes('tocsin-redis')) {
      notes.push('Scale-out (6) not measured: it needs Tocsin (Redis) among the targets.');
    } else {
      log(`scale-out: ${config.scale.instances.join(', ')} instances behind nginx (${elapsed()})`);
      scale = await measureScale(config.scale, 2, log).catch((error: Error) => {
        const note = `the scale-out measure failed: ${error.message.split('\n')[0]}`;
        log(`  ${note}`);
        measureErrors.push(note);
        return [];
      });
    }
  }
  if (config.profile) {
    log(`profiles (${elapsed()})`);
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-prof-'));
    profiles = await profilePass(
      config,
      machine.fdLimit,
      dir,
      log,
      idleSteps,
      targets.filter((t) => t === 'tocsin' || t === 'tocsin-redis'),
    );
  }
} finally {
  // Children are stopped by each phase; installCleanup covers the rest.
}

const args = process.argv.slice(2);
const markdown = renderReport({
  config,
  command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
  machine,
  targets,
  passes,
  ...(agent !== undefined && { agent }),
  ...(agentNote !== undefined && { agentNote }),
  ...(agentStorm !== undefined && { agentStorm }),
  scale,
  profiles,
  notes,
  idleCapacity: serverCapacity,
  cappedSteps,
  durationS: (Date.now() - started) / 1000,
});
console.log(`\n${markdown}`);
if (config.record) {
  const file = join(ROOT, 'bench/RESULTS.md');
  if (!existsSync(file))
    writeFileSync(file, '# Tocsin bench results\n\nAppended by `npm run bench`; newest last.\n');
  appendFileSync(file, `\n${markdown}`);
  log(`appended to bench/RESULTS.md (${elapsed()})`);
}
const failures = checkRun({
  passes,
  errors: measureErrors,
  deliveries: [
    ...(agentStorm === undefined ? [] : [{ label: 'agent storm', ...agentStorm.verify }]),
    ...scale.map((p) => ({ label: `scale-out storm, ${p.instances} instance(s)`, ...p.storm.verify })),
    ...scale
      .filter((p) => p.fanout.missing > 0)
      .map((p) => ({
        label: `scale-out fan-out, ${p.instances} instance(s)`,
        lost: p.fanout.missing,
        duplicates: 0,
      })),
  ],
});
for (const failure of failures) console.error(`bench: ${failure}`);
process.exit(failures.length > 0 ? 1 : 0);
