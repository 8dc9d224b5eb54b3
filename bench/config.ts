/**
 * What a bench run does, in one object: the full run (≤ 10 min on 2 cores) or `--quick` (< 1 min,
 * small counts, one run: a smoke test of the harness, not a result).
 */
import { parseArgs } from 'node:util';
import type { AgentStormConfig } from './measures/agent-storm.ts';
import type { FanoutConfig } from './measures/fanout.ts';
import type { IdleConfig } from './measures/idle.ts';
import type { ScaleConfig } from './measures/scale.ts';
import type { StormConfig } from './measures/storm.ts';
import type { ThroughputConfig } from './measures/throughput.ts';
import type { TargetName } from './targets.ts';

export interface AgentBenchConfig {
  resumes: number;
  idleCpuWindowMs: number;
  halfOpenHeartbeatMs: number;
  halfOpenRepeats: number;
  /** Outage lengths: connections cut and refused this long, then the time until the agent is live. */
  outagesMs: number[];
  /** A proxy ends every connection at this age while an alarm is published every `cutPublishGapMs`. */
  cutEveryMs: number;
  cutWindowMs: number;
  cutPublishGapMs: number;
  /** The storm made by real agents (measures/agent-storm.ts). */
  storm: AgentStormConfig;
}

export type Phase = 'idle' | 'streams' | 'publish' | 'agent' | 'scale';
const ALL_PHASES: Phase[] = ['idle', 'streams', 'publish', 'agent', 'scale'];

export interface BenchConfig {
  mode: 'quick' | 'full';
  /** Which groups of measures to run (default all): idle = 1, streams = 2 and 4, publish = 3, agent = 4c and 5, scale = 6. */
  phases: Phase[];
  runs: number;
  targets: TargetName[];
  /** Append the results to bench/RESULTS.md. */
  record: boolean;
  /** One extra profiled pass per target (node --cpu-prof), hot spots summarised in the results. */
  profile: boolean;
  idle: IdleConfig;
  fanout: FanoutConfig;
  storm: StormConfig;
  throughput: ThroughputConfig;
  agent: AgentBenchConfig;
  /** Measure 6: instances on one Redis behind nginx. */
  scale: ScaleConfig;
  /** Heartbeat of the servers for measures 2-4 (the production default). */
  heartbeatMs: number;
}

const ALL_TARGETS: TargetName[] = ['tocsin', 'tocsin-redis', 'better-sse', 'plain-http'];

const FULL: Omit<BenchConfig, 'targets' | 'record' | 'profile' | 'phases'> = {
  mode: 'full',
  runs: 3,
  heartbeatMs: 15_000,
  idle: {
    steps: [10_000, 20_000, 50_000, 100_000],
    heartbeatMs: 1_000,
    cpuWindowMs: 3_000,
    settleMs: 700,
  },
  fanout: { sizes: [1_000, 10_000], alarms: 6, timeoutMs: 20_000 },
  storm: {
    subscribers: 10_000,
    missed: 1_000,
    trickle: 20,
    trickleGapMs: 50,
    retryMs: 3_000,
    capMs: 10_000,
  },
  throughput: { concurrency: [1, 128], durationMs: 3_000, warmupMs: 1_000 },
  agent: {
    resumes: 10,
    idleCpuWindowMs: 60_000,
    halfOpenHeartbeatMs: 1_000,
    halfOpenRepeats: 3,
    outagesMs: [5_000, 30_000, 120_000],
    cutEveryMs: 20_000,
    cutWindowMs: 90_000,
    cutPublishGapMs: 500,
    storm: { agents: 1_000, missed: 200, capMs: 20_000 },
  },
  scale: {
    instances: [1, 2, 4],
    subscribers: 5_000,
    fanout: { alarms: 6, timeoutMs: 20_000 },
    storm: { missed: 500, trickle: 20, trickleGapMs: 50, retryMs: 3_000, capMs: 15_000 },
    heartbeatMs: 15_000,
  },
};

const QUICK: typeof FULL = {
  mode: 'quick',
  runs: 1,
  heartbeatMs: 15_000,
  idle: { steps: [500, 1_000], heartbeatMs: 500, cpuWindowMs: 1_000, settleMs: 300 },
  fanout: { sizes: [100, 1_000], alarms: 3, timeoutMs: 10_000 },
  storm: { subscribers: 1_000, missed: 100, trickle: 5, trickleGapMs: 20, retryMs: 3_000, capMs: 10_000 },
  throughput: { concurrency: [1, 128], durationMs: 1_000, warmupMs: 200 },
  agent: {
    resumes: 3,
    idleCpuWindowMs: 3_000,
    halfOpenHeartbeatMs: 300,
    halfOpenRepeats: 1,
    outagesMs: [3_000],
    cutEveryMs: 2_000,
    cutWindowMs: 6_000,
    cutPublishGapMs: 250,
    storm: { agents: 100, missed: 50, capMs: 15_000 },
  },
  scale: {
    instances: [1, 2, 4],
    subscribers: 500,
    fanout: { alarms: 3, timeoutMs: 10_000 },
    storm: { missed: 100, trickle: 5, trickleGapMs: 20, retryMs: 3_000, capMs: 10_000 },
    heartbeatMs: 15_000,
  },
};

export function parseBenchArgs(argv: string[]): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      targets: { type: 'string' },
      'no-record': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      only: { type: 'string' },
      'storm-subscribers': { type: 'string' },
    },
  });
  const base = values.quick ? QUICK : FULL;
  const targets = (values.targets?.split(',') ?? ALL_TARGETS) as TargetName[];
  for (const t of targets) {
    if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target "${t}" (one of ${ALL_TARGETS.join(', ')})`);
  }
  const phases = (values.only?.split(',') ?? ALL_PHASES) as Phase[];
  for (const p of phases) {
    if (!ALL_PHASES.includes(p)) throw new Error(`unknown phase "${p}" (one of ${ALL_PHASES.join(', ')})`);
  }
  return {
    ...base,
    phases,
    storm:
      values['storm-subscribers'] === undefined
        ? base.storm
        : { ...base.storm, subscribers: Number(values['storm-subscribers']) },
    runs: values.runs === undefined ? base.runs : Number(values.runs),
    targets,
    record: !values['no-record'],
    profile: values.profile,
  };
}
