/**
 * Turns the passes into the RESULTS.md section: per measure, each server's median (min–max over the
 * runs), the ratios Tocsin ÷ peer, and the issue's targets met or not. Figures only: what fails the
 * bench is decided in checks.ts.
 */
import type { BenchConfig, Phase } from './config.ts';
import type { Machine } from './machine.ts';
import type { AgentResult } from './measures/agent.ts';
import type { AgentStormResult } from './measures/agent-storm.ts';
import type { ScalePoint } from './measures/scale.ts';
import type { StormResult } from './measures/storm.ts';
import type { PassResult } from './phases.ts';
import type { ProfileReport } from './profile-pass.ts';
import { type Spread, spread } from './stats.ts';
import { TARGETS, type TargetName } from './targets.ts';

export interface ReportInput {
  config: BenchConfig;
  /** The command line that produced this run, as a user would type it. */
  command: string;
  machine: Machine;
  targets: TargetName[];
  passes: PassResult[];
  agent?: AgentResult;
  agentNote?: string;
  agentStorm?: AgentStormResult;
  scale: ScalePoint[];
  profiles: ProfileReport[];
  notes: string[];
  idleCapacity: number;
  cappedSteps: number[];
  durationS: number;
}

const PEERS: TargetName[] = ['better-sse', 'plain-http'];
const TOCSINS: TargetName[] = ['tocsin', 'tocsin-redis'];

function num(value: number, digits: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (value === Number.POSITIVE_INFINITY) return '∞';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmt(s: Spread, digits = 1, unit = ''): string {
  if (s.n === 0) return 'n/a';
  const u = unit === '' ? '' : ` ${unit}`;
  if (s.n === 1 || s.min === s.max) return `${num(s.median, digits)}${u}`;
  return `${num(s.median, digits)}${u} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

/** Server CPU per ack, with its Redis's share (median) when it has one. */
function cpuCell(point: { cpuUs: Spread; storeCpuUs: Spread } | undefined): string {
  if (point === undefined) return 'n/a';
  const total = fmt(point.cpuUs, 1, 'µs');
  const store = point.storeCpuUs;
  return store.n === 0 || store.median === 0 ? total : `${total}, of which Redis ${num(store.median, 1)} µs`;
}

function ratio(a: Spread, b: Spread): string {
  if (a.n === 0 || b.n === 0 || b.median === 0) return 'n/a';
  return `${(a.median / b.median).toFixed(2)}×`;
}

type StormAggregate = {
  caughtUp: Spread;
  p50: Spread;
  deliveries: Spread;
  overflows: Spread;
  serverCpuS: Spread;
  clientCpuS: Spread;
  /** Fewest streams caught up within the cap in any run, and of how many. */
  worstCaught: number;
  subscribers: number;
  warnings: string[];
  failures: Record<string, number>;
  lost: number;
  duplicates: number;
  unexpected: number;
  reconnects: number;
  gaps: number;
  runs: number;
};

interface Aggregate {
  streams: Spread;
  rssPerStreamKiB: Spread;
  heartbeatRoundMs: Spread;
  loopDelayMaxMs: Spread;
  loopDelayP99Ms: Spread;
  cpuAt15s: Spread;
  fanout: Map<number, { p50: Spread; p99: Spread; max: Spread; missing: number }>;
  publish: Map<number, { acked: Spread; p99: Spread; cpuUs: Spread; storeCpuUs: Spread; failed: number }>;
  bestPublish: Spread;
  storm: StormAggregate;
  /** The storm as agents make it (their backoff jitter). */
  agentStorm: StormAggregate;
  errors: string[];
}

function aggregateStorms(storms: StormResult[]): StormAggregate {
  return {
    caughtUp: spread(storms.map((s) => s.caughtUpMs)),
    p50: spread(storms.map((s) => s.p50CaughtUpMs)),
    deliveries: spread(storms.map((s) => s.deliveriesPerSec)),
    overflows: spread(storms.map((s) => s.listenOverflows)),
    serverCpuS: spread(storms.map((s) => s.serverCpuMs / 1000)),
    clientCpuS: spread(storms.map((s) => s.clientCpuMs / 1000)),
    worstCaught: Math.min(...storms.map((s) => s.subscribers - s.notCaughtUp)),
    subscribers: Math.max(0, ...storms.map((s) => s.subscribers)),
    warnings: [...new Set(storms.flatMap((s) => s.serverWarnings ?? []))],
    failures: storms.reduce<Record<string, number>>((acc, s) => {
      for (const [k, v] of Object.entries(s.failures)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    lost: storms.reduce((n, s) => n + s.verify.lost, 0),
    duplicates: storms.reduce((n, s) => n + s.verify.duplicates, 0),
    unexpected: storms.reduce((n, s) => n + s.verify.unexpected, 0),
    reconnects: storms.reduce((n, s) => n + s.reconnects, 0),
    gaps: storms.reduce((n, s) => n + s.gaps, 0),
    runs: storms.length,
  };
}

function aggregate(passes: PassResult[]): Aggregate {
  const idle = passes.flatMap((p) => (p.idle === undefined ? [] : [p.idle]));
  const fanout = new Map<number, { p50: Spread; p99: Spread; max: Spread; missing: number }>();
  const sizes = [...new Set(passes.flatMap((p) => p.fanout.map((f) => f.subscribers)))].sort((a, b) => a - b);
  for (const size of sizes) {
    const rows = passes.flatMap((p) => p.fanout.filter((f) => f.subscribers === size));
    fanout.set(size, {
      p50: spread(rows.map((r) => r.p50)),
      p99: spread(rows.map((r) => r.p99)),
      max: spread(rows.map((r) => r.max)),
      missing: rows.reduce((n, r) => n + r.missing, 0),
    });
  }
  const publish = new Map<
    number,
    { acked: Spread; p99: Spread; cpuUs: Spread; storeCpuUs: Spread; failed: number }
  >();
  const levels = [...new Set(passes.flatMap((p) => p.throughput.map((t) => t.concurrency)))].sort(
    (a, b) => a - b,
  );
  for (const c of levels) {
    const rows = passes.flatMap((p) => p.throughput.filter((t) => t.concurrency === c));
    publish.set(c, {
      acked: spread(rows.map((r) => r.ackedPerSec)),
      p99: spread(rows.map((r) => r.p99)),
      cpuUs: spread(rows.map((r) => r.cpuUsPerAck).filter((v) => Number.isFinite(v))),
      storeCpuUs: spread(rows.map((r) => r.storeCpuUsPerAck).filter((v) => Number.isFinite(v))),
      failed: rows.reduce((n, r) => n + r.failed, 0),
    });
  }
  const best = passes
    .filter((p) => p.throughput.length > 0)
    .map((p) => Math.max(...p.throughput.map((t) => t.ackedPerSec)));
  return {
    streams: spread(idle.map((i) => i.streams)),
    rssPerStreamKiB: spread(idle.map((i) => i.rssPerStreamBytes / 1024)),
    heartbeatRoundMs: spread(idle.map((i) => i.heartbeatRoundMs)),
    loopDelayMaxMs: spread(idle.map((i) => i.loopDelayMaxMs)),
    loopDelayP99Ms: spread(idle.map((i) => i.loopDelayP99Ms)),
    cpuAt15s: spread(idle.map((i) => i.cpuPercentAt15s)),
    fanout,
    publish,
    bestPublish: spread(best),
    storm: aggregateStorms(passes.flatMap((p) => (p.storm === undefined ? [] : [p.storm]))),
    agentStorm: aggregateStorms(passes.flatMap((p) => (p.agentStorm === undefined ? [] : [p.agentStorm]))),
    errors: passes.flatMap((p) => p.errors.map((e) => `run ${p.run}: ${e}`)),
  };
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderReport(input: ReportInput): string {
  const { config, machine, targets } = input;
  const agg = new Map<TargetName, Aggregate>();
  for (const t of targets) agg.set(t, aggregate(input.passes.filter((p) => p.target === t)));
  const label = (t: TargetName) => TARGETS[t].label;
  /** The highest publish concurrency: what the ratio and the issue's targets compare. */
  const topConcurrency = config.throughput.concurrency[config.throughput.concurrency.length - 1] as number;
  const tocsins = TOCSINS.filter((t) => agg.has(t));
  const peers = PEERS.filter((t) => agg.has(t));
  const out: string[] = [];
  const st = config.storm;
  const ran = (phase: Phase) => input.passes.length > 0 && config.phases.includes(phase);
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const kind = input.passes.length === 0 ? 'profile pass' : `${config.mode} run`;
  out.push(`## ${date} — ${kind} (\`${input.command}\`)`);
  out.push('');
  out.push(
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Node ${machine.node}, ` +
      `${machine.kernel}, temp dir on ${machine.filesystem}, open-file limit ${machine.fdLimit}. ` +
      `${config.runs} run(s) per server, order rotated each run; values are median (min–max over runs). ` +
      `Took ${Math.round(input.durationS)} s.` +
      (config.mode === 'quick' ? ' **Quick mode: small counts, one run — a smoke test, not a result.**' : ''),
  );
  for (const note of input.notes) out.push(`\n- ${note}`);
  out.push('');

  // 1. Idle streams
  if (ran('idle')) {
    out.push('### 1. Idle streams held by one server process');
    out.push('');
    const steps = config.idle.steps.map((s) => Math.min(s, input.idleCapacity));
    out.push(
      `Ramp ${[...new Set(steps)].join(' → ')} streams; RSS after a forced GC; heartbeat CPU measured with a ` +
        `${config.idle.heartbeatMs} ms heartbeat over ${config.idle.cpuWindowMs / 1000} s and scaled to one round per 15 s; ` +
        'over the same window the event-loop delay (`monitorEventLoopDelay`, 1 ms resolution, in the server): its max is the longest a round kept the server from answering anything.' +
        (input.cappedSteps.length > 0
          ? ` **${input.cappedSteps.join(', ')} streams not reachable here:** one process may hold at most ` +
            `${machine.fdLimit} file descriptors (hard RLIMIT_NOFILE; the bench cannot raise it without CAP_SYS_RESOURCE), ` +
            `so the ramp stops at ${input.idleCapacity}.`
          : ''),
    );
    out.push('');
    out.push(
      table(
        [
          'server',
          'streams held',
          'RSS per stream',
          'CPU per heartbeat round',
          'heartbeat CPU at 15 s (one core)',
          'event-loop delay during rounds: max / p99',
        ],
        targets.map((t) => {
          const a = agg.get(t) as Aggregate;
          if (t === 'tocsin-redis') {
            return [
              label(t),
              'same code path as SQLite: holding a stream does not touch the store',
              '',
              '',
              '',
              '',
            ];
          }
          return [
            label(t),
            fmt(a.streams, 0),
            fmt(a.rssPerStreamKiB, 2, 'KiB'),
            fmt(a.heartbeatRoundMs, 1, 'ms'),
            fmt(a.cpuAt15s, 3, '%'),
            `${fmt(a.loopDelayMaxMs, 1, 'ms')} / ${fmt(a.loopDelayP99Ms, 1, 'ms')}`,
          ];
        }),
      ),
    );
    out.push('');
  }
  // 2. Fan-out
  if (ran('streams')) {
    out.push('### 2. Fan-out latency (publish → receipt, all subscribers)');
    out.push('');
    out.push(
      `${config.fanout.alarms} alarms one at a time to every subscriber; percentiles over all deliveries of a run. ` +
        "Tocsin's latency includes its durable commit before fan-out.",
    );
    out.push('');
    const fanRows: string[][] = [];
    for (const size of config.fanout.sizes) {
      for (const t of targets) {
        const f = (agg.get(t) as Aggregate).fanout.get(size);
        if (f === undefined) continue;
        fanRows.push([
          String(size),
          label(t),
          fmt(f.p50, 1, 'ms'),
          fmt(f.p99, 1, 'ms'),
          fmt(f.max, 1, 'ms'),
          String(f.missing),
        ]);
      }
    }
    out.push(table(['subscribers', 'server', 'p50', 'p99', 'max', 'missing'], fanRows));
    out.push('');
  }
  // 3. Publish throughput
  if (ran('publish')) {
    out.push('### 3. Publish throughput (acknowledged 201s per second)');
    out.push('');
    out.push(
      `Keep-alive connections each waiting for the ack before the next POST; ${config.throughput.durationMs / 1000} s window ` +
        `after a ${config.throughput.warmupMs / 1000} s warm-up; no subscribers; paired: after the other measures all servers are ` +
        'started, then each level is measured on one after the other (order rotated per run), so their windows lie seconds apart. ' +
        'Server CPU per ack: all its threads (and its Redis, whose share is given apart: on a real deployment it has a host of its own) over the window ÷ acks. ' +
        '**Tocsin acknowledges only after a durable commit** (SQLite WAL, ' +
        '`synchronous=FULL`, group commit; or Redis AOF); **the peers keep alarms in memory and give no durability.**',
    );
    out.push('');
    const levels = config.throughput.concurrency;
    out.push(
      table(
        [
          'server',
          ...levels.flatMap((c) => [
            `${c} in flight`,
            `p99 ack latency, ${c} in flight`,
            `server CPU per ack, ${c} in flight`,
          ]),
        ],
        targets.map((t) => {
          const a = agg.get(t) as Aggregate;
          return [
            label(t),
            ...levels.flatMap((c) => {
              const point = a.publish.get(c);
              return [
                fmt(point?.acked ?? spread([]), 0, '/s'),
                fmt(point?.p99 ?? spread([]), 1, 'ms'),
                cpuCell(point),
              ];
            }),
          ];
        }),
      ),
    );
    out.push('');
  }
  // 4. Storm
  if (ran('streams')) {
    out.push('### 4. Reconnect storm');
    out.push('');
    out.push(
      `${st.subscribers} streams drop at once (TCP reset); ${st.missed} alarms are published and acknowledged while they are away; ` +
        `then every stream reconnects with the agent's headers (Last-Event-ID with its cursor, X-Tocsin-Client with its id) while ${st.trickle} more arrive live. ` +
        '**4a**: all in the same instant (the worst case: what the server can take). ' +
        `**4b**: each after the agent's own backoff (client/backoff.ts: full jitter over the servers' ${st.retryMs / 1000} s \`retry:\`), as a fleet of agents comes back. ` +
        "A stream the server refuses or closes retries after the agent's backoff (Retry-After honoured). A stream is caught up when it " +
        'holds the last missed alarm and its `ready` (replay done, live). The wait is capped at ' +
        `${st.capMs / 1000} s (${(st.capMs / 5_000).toFixed(0)}× the target) to keep the bench bounded: "> cap" means not everyone ` +
        "made it, with how many did. Every stream's log is then compared with the exact ids it had to receive: a hole is lost " +
        '(a stream still catching up at the cap is judged on what it got so far), a repeat is a duplicate; both must be 0 (bench/checks.ts). ' +
        'Listen overflows: handshakes the kernel dropped because the accept queue was full (they retry after 1 s, 3 s, 7 s…).',
    );
    out.push('');
    const capText = (s: StormAggregate, v: Spread) =>
      v.median === Number.POSITIVE_INFINITY
        ? `> ${num(st.capMs, 0)} ms (${num(s.worstCaught, 0)} of ${num(s.subscribers, 0)} in the worst run)`
        : fmt(v, 0, 'ms');
    const stormTable = (title: string, pick: (a: Aggregate) => StormAggregate) => {
      out.push(`**${title}**`);
      out.push('');
      out.push(
        table(
          [
            'server',
            'all caught up',
            'median stream',
            'deliveries/s',
            'lost',
            'duplicates',
            'listen overflows',
            'CPU server / clients',
          ],
          targets.map((t) => {
            const s = pick(agg.get(t) as Aggregate);
            return [
              label(t),
              s.runs === 0 ? 'n/a' : capText(s, s.caughtUp),
              s.runs === 0
                ? 'n/a'
                : s.p50.median === Number.POSITIVE_INFINITY
                  ? `> ${num(st.capMs, 0)} ms`
                  : fmt(s.p50, 0, 'ms'),
              fmt(s.deliveries, 0),
              String(s.lost),
              String(s.duplicates),
              fmt(s.overflows, 0),
              `${fmt(s.serverCpuS, 1, 's')} / ${fmt(s.clientCpuS, 1, 's')}`,
            ];
          }),
        ),
      );
      out.push('');
      for (const t of targets) {
        const s = pick(agg.get(t) as Aggregate);
        const failed = Object.entries(s.failures)
          .map(([k, v]) => `${k} ×${v}`)
          .join(', ');
        if (failed === '' && s.warnings.length === 0) continue;
        out.push(
          `- ${label(t)}: ${failed === '' ? '' : `stream opens that failed and were retried (all runs): ${failed}. `}` +
            (s.warnings.length === 0
              ? ''
              : `Server warnings: ${s.warnings.map((w) => `"${w}"`).join('; ')}.`),
        );
      }
      out.push('');
    };
    stormTable('4a. All at once', (a) => a.storm);
    stormTable("4b. With the agent's backoff", (a) => a.agentStorm);
  }
  // 5. Agent
  if (config.phases.includes('agent')) {
    out.push('### 5. Client agent (client/agent.ts against Tocsin)');
    out.push('');
    const ag = input.agent;
    if (ag === undefined) {
      out.push(`Not measured: ${input.agentNote ?? 'skipped (--only)'}.`);
    } else {
      const halfOpen = spread(ag.halfOpenDetectMs);
      out.push(
        table(
          ['measure', 'value', 'how'],
          [
            [
              'resume → live',
              fmt(spread(ag.resumeToLiveMs), 0, 'ms'),
              `'resume' signalled after ${ag.missedPerResume} alarms were missed; until live with all of them (${ag.resumeToLiveMs.length} resumes)`,
            ],
            [
              'half-open connection detected',
              `${fmt(halfOpen, 0, 'ms')} = ${num(halfOpen.median / ag.halfOpenHeartbeatMs, 1)} × heartbeat`,
              `proxy silences the stream without closing it; ${ag.halfOpenDetectMs.length} tries at a ${ag.halfOpenHeartbeatMs} ms heartbeat (at 15 s: ≈ ${num((halfOpen.median / ag.halfOpenHeartbeatMs) * 15, 0)} s)`,
            ],
            [
              'idle CPU',
              `${num(ag.idleCpuPercent, 3)} % of one core`,
              `agent process, live and idle for ${num(ag.idleWindowMs / 1000, 0)} s, 15 s heartbeat`,
            ],
            ...(ag.outageRecoveryMs ?? []).map(([outage, ms]): string[] => [
              `outage of ${num(outage / 1000, 0)} s → live`,
              `${num(ms, 0)} ms`,
              'a proxy cuts the stream and refuses connections for the outage; from the path being back to live',
            ]),
            ...(ag.cutLatencyMs === undefined
              ? []
              : [
                  [
                    `latency, proxy cutting every ${num((ag.cutEveryMs ?? 0) / 1000, 0)} s`,
                    fmt(spread(ag.cutLatencyMs), 0, 'ms'),
                    `publish → agent, ${ag.cutPublished} alarms at a steady pace, lost ${ag.cutLost}; every connection ends cleanly at that age`,
                  ],
                ]),
          ],
        ),
      );
      for (const f of ag.fleet ?? []) {
        out.push('');
        out.push(
          `Fleet arrivals after a ${num(f.outageMs / 1000, 0)} s outage (${f.agents} agents, the agent's own reconnect policy, server \`retry:\` ${num(f.serverRetryMs / 1000, 0)} s): median ${num(f.medianMs, 0)} ms, p99 ${num(f.p99Ms, 0)} ms, max ${num(f.maxMs, 0)} ms after the server is back; ${num(f.attemptsPerSecondWhileDown, 0)} attempts/s against it while down. Agents per second after recovery: ${f.perSecond.map((n, i) => `${i}–${i + 1} s: ${n}`).join(', ')}.`,
        );
      }
    }
    out.push('');
  }
  const as = input.agentStorm;
  if (as !== undefined) {
    out.push('### 4c. Storm of real agents (client/agent.ts against Tocsin (SQLite))');
    out.push('');
    out.push(
      `${as.agents} agents (the library itself: its EventSource, headers, watchdog and backoff) follow Tocsin through a TCP proxy that ` +
        `resets every connection at once; ${as.missed} alarms are acknowledged meanwhile; each agent comes back on its own. ` +
        "Caught up: live and holding the last missed alarm. Then a sentinel alarm and every agent's ids are checked.",
    );
    out.push('');
    out.push(
      table(
        ['agents', 'all caught up', 'median agent', 'not caught up', 'lost', 'duplicates', 'CPU server'],
        [
          [
            num(as.agents, 0),
            `${num(as.caughtUpMs, 0)} ms`,
            `${num(as.p50CaughtUpMs, 0)} ms`,
            String(as.notCaughtUp),
            String(as.verify.lost),
            String(as.verify.duplicates),
            `${num(as.serverCpuMs / 1000, 1)} s`,
          ],
        ],
      ),
    );
    out.push('');
  }
  if (input.scale.length > 0) {
    const sc = config.scale;
    out.push('### 6. Beyond one process: Tocsin (Redis) instances behind nginx');
    out.push('');
    out.push(
      `1, 2 and 4 instances on one Redis, behind nginx (least_conn, buffering off, 2 workers); ${sc.subscribers} subscribers and the ` +
        `publisher reach them only through nginx. Fan-out: ${sc.fanout.alarms} alarms one at a time to every subscriber. ` +
        `Storm: ${sc.subscribers} streams × ${sc.storm.missed} missed, all back at once with the agent's headers. ` +
        "CPU: the instances and Redis (not nginx, not the load generators), from the storm's reconnect to caught up. " +
        `This machine has ${machine.cores} cores for everything (instances, Redis, nginx, load): see docs/benchmarks.md for what the figures predict on a bigger one.`,
    );
    out.push('');
    const base = input.scale[0];
    out.push(
      table(
        [
          'instances',
          'fan-out p50 / p99',
          'storm: all caught up',
          'deliveries/s',
          'vs 1 instance',
          'lost',
          'duplicates',
          'CPU instances + Redis',
        ],
        input.scale.map((p) => [
          String(p.instances),
          `${num(p.fanout.p50, 1)} / ${num(p.fanout.p99, 1)} ms`,
          p.storm.caughtUpMs === Number.POSITIVE_INFINITY
            ? `> ${num(sc.storm.capMs, 0)} ms (${p.storm.subscribers - p.storm.notCaughtUp} of ${p.storm.subscribers})`
            : `${num(p.storm.caughtUpMs, 0)} ms`,
          num(p.storm.deliveriesPerSec, 0),
          base === undefined
            ? 'n/a'
            : `${(p.storm.deliveriesPerSec / base.storm.deliveriesPerSec).toFixed(2)}×`,
          String(p.storm.verify.lost),
          String(p.storm.verify.duplicates),
          `${num(p.storm.serverCpuMs / 1000, 1)} s`,
        ]),
      ),
    );
    out.push('');
  }
  // Ratios
  if (input.passes.length > 0) {
    out.push('### Ratios Tocsin ÷ peer');
    out.push('');
    out.push('Lower is better for memory, latency and time; higher is better for throughput.');
    out.push('');
    const ratioCols = tocsins.flatMap((t) => peers.map((p) => ({ t, p })));
    const ratioRow = (name: string, pick: (a: Aggregate) => Spread) => [
      name,
      ...ratioCols.map(({ t, p }) => ratio(pick(agg.get(t) as Aggregate), pick(agg.get(p) as Aggregate))),
    ];
    const none = spread([]);
    const rows: string[][] = [
      ratioRow('RSS per idle stream', (a) => a.rssPerStreamKiB),
      ratioRow('heartbeat CPU', (a) => a.cpuAt15s),
      ...config.fanout.sizes.map((size) =>
        ratioRow(`fan-out p99, ${size}`, (a) => a.fanout.get(size)?.p99 ?? none),
      ),
      ratioRow('publish acked/s (best)', (a) => a.bestPublish),
      ratioRow(
        `server CPU per publish ack, ${topConcurrency} in flight`,
        (a) => a.publish.get(topConcurrency)?.cpuUs ?? none,
      ),
      ratioRow('storm replay deliveries/s', (a) => a.storm.deliveries),
    ];
    if (ratioCols.length > 0) {
      out.push(table(['measure', ...ratioCols.map(({ t, p }) => `${label(t)} ÷ ${label(p)}`)], rows));
    } else {
      out.push('n/a (needs Tocsin and at least one peer)');
    }
    out.push('');

    // Targets
    out.push('### Targets (issue 6)');
    out.push('');
    const targetRows: string[][] = [];
    const tocsin = agg.get('tocsin');
    const plain = agg.get('plain-http');
    if (tocsin !== undefined) {
      const held = tocsin.streams.median;
      const kib = tocsin.rssPerStreamKiB.median;
      const perStreamOk = kib <= 8;
      if (ran('idle'))
        targetRows.push([
          '≥ 100k idle streams at ≤ 8 KiB RSS each',
          held >= 100_000 && perStreamOk
            ? 'met'
            : `not met${held < 100_000 ? ` (100k not reachable here: ${num(held, 0)} held)` : ''}; ${num(kib, 2)} KiB/stream ${perStreamOk ? '≤' : '>'} 8 KiB`,
        ]);
      const big = Math.max(...config.fanout.sizes);
      const f = tocsin.fanout.get(big);
      const pf = plain?.fanout.get(big);
      if (f !== undefined && ran('streams')) {
        const p99 = f.p99.median;
        const rel = pf === undefined ? Number.NaN : pf.p99.median / p99;
        targetRows.push([
          `${big} fan-out p99 ≤ 60 ms and ≥ 0.8× the plain-http bound`,
          `${p99 <= 60 && rel >= 0.8 ? 'met' : 'not met'}: p99 ${num(p99, 1)} ms (${p99 <= 60 ? '≤' : '>'} 60); plain-http p99 ÷ Tocsin p99 = ${num(rel, 2)} (${rel >= 0.8 ? '≥' : '<'} 0.8)`,
        ]);
      }
      for (const t of ran('publish') ? tocsins : []) {
        const best = (agg.get(t) as Aggregate).bestPublish.median;
        targetRows.push([
          `≥ 20k durable alarms/s — ${label(t)}`,
          `${best >= 20_000 ? 'met' : 'not met'}: ${num(best, 0)}/s`,
        ]);
      }
      // Issue 13: durable publish at the top concurrency against the in-memory peers of the same run.
      const at = (t: TargetName) => agg.get(t)?.publish.get(topConcurrency)?.acked.median ?? Number.NaN;
      const peerBest = Math.max(...peers.map(at).filter((v) => !Number.isNaN(v)));
      for (const t of ran('publish') && peers.length > 0 ? tocsins : []) {
        const r = at(t) / peerBest;
        targetRows.push([
          `publish at ${topConcurrency} in flight ≥ 0.8× the best in-memory peer — ${label(t)}`,
          `${r >= 0.8 ? 'met' : 'not met'}: ${num(at(t), 0)}/s = ${num(r, 2)}× ${num(peerBest, 0)}/s`,
        ]);
      }
      if (ran('publish') && agg.has('tocsin') && agg.has('tocsin-redis'))
        targetRows.push([
          `Redis publish at ${topConcurrency} in flight ≥ SQLite's`,
          `${at('tocsin-redis') >= at('tocsin') ? 'met' : 'not met'}: ${num(at('tocsin-redis'), 0)}/s vs ${num(at('tocsin'), 0)}/s`,
        ]);
      const storm = tocsin.storm;
      if (ran('streams'))
        targetRows.push([
          `storm (${st.subscribers} × ${st.missed}) caught up ≤ 5 s, lost = 0, duplicates = 0`,
          `${storm.caughtUp.median <= 5_000 && storm.lost === 0 && storm.duplicates === 0 ? 'met' : 'not met'}: ${
            storm.caughtUp.median === Number.POSITIVE_INFINITY
              ? `> ${num(st.capMs, 0)}`
              : num(storm.caughtUp.median, 0)
          } ms, lost ${storm.lost}, duplicates ${storm.duplicates}`,
        ]);
    }
    if (input.agent !== undefined) {
      const resume = spread(input.agent.resumeToLiveMs).median;
      targetRows.push(['wake → live ≤ 1 s', `${resume <= 1_000 ? 'met' : 'not met'}: ${num(resume, 0)} ms`]);
      const outages = (input.agent.outageRecoveryMs ?? []).map(([, ms]) => ms);
      const fleetWorst = Math.max(0, ...(input.agent.fleet ?? []).map((f) => f.maxMs));
      const fleetMedian = Math.max(0, ...(input.agent.fleet ?? []).map((f) => f.medianMs));
      if (outages.length > 0) {
        const median = spread(outages).median;
        const worst = Math.max(...outages, fleetWorst);
        targetRows.push([
          'back after an outage: median ≤ 5 s, worst ≤ 15 s',
          `${Math.max(median, fleetMedian) <= 5_000 && worst <= 15_000 ? 'met' : 'not met'}: measured median ${num(median, 0)} ms; fleet median ${num(fleetMedian, 0)} ms, worst ${num(worst, 0)} ms`,
        ]);
      }
    } else if (config.phases.includes('agent')) {
      targetRows.push(['wake → live ≤ 1 s', 'not measured (see 5)']);
    }
    out.push(table(['target', 'result'], targetRows));
    out.push('');
  }
  // Profiles
  if (input.profiles.length > 0) {
    out.push('### CPU profiles (`--profile`: node --cpu-prof of the server, self time, share of busy time)');
    out.push('');
    for (const p of input.profiles) {
      out.push(`**${p.target}, ${p.measure}** — ${num(p.busyMs, 0)} ms busy. By file:`);
      out.push('');
      out.push(
        table(
          ['self %', 'self ms', 'file'],
          p.files.slice(0, 8).map((r) => [num(r.percent, 1), num(r.selfMs, 0), r.where]),
        ),
      );
      out.push('');
      out.push('Top functions:');
      out.push('');
      out.push(
        table(
          ['self %', 'self ms', 'function', 'where'],
          p.functions.map((r) => [num(r.percent, 1), num(r.selfMs, 0), r.name, r.where]),
        ),
      );
      out.push('');
    }
  }

  const errors = targets.flatMap((t) => (agg.get(t) as Aggregate).errors.map((e) => `${label(t)} ${e}`));
  if (errors.length > 0) {
    out.push('### Measures that could not be taken');
    out.push('');
    for (const e of errors) out.push(`- ${e.split('\n')[0]}`);
    out.push('');
  }
  return out.join('\n');
}
