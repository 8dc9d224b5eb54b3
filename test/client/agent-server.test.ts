import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentDeps, type AgentWarning, type GapNotice } from '../../client/agent.ts';
import { SqliteAgentStore } from '../../client/agent-store.ts';
import type { AgentConfigInput } from '../../client/config.ts';
import { PowerEventHub } from '../../client/power.ts';
import type { ConnectionState } from '../../client/state.ts';
import type { Alarm } from '../../protocol/index.ts';
import { OffsetClock } from '../helpers/client-clock.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/client-proxy.ts';
import { waitFor } from '../helpers/client-wait.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** The agent against the real server (SQLite store, real sockets, real timers). */

interface Harness {
  agent: Agent;
  alarms: { alarm: Alarm; replayed: boolean }[];
  states: ConnectionState[];
  warnings: AgentWarning[];
  gaps: GapNotice[];
}

let srv: TestServer;
let dir: string;
let subToken: string;
let pubToken: string;
let proxy: FaultProxy | undefined;
const running: Agent[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-agent-'));
});

afterEach(async () => {
  for (const agent of running.splice(0)) await agent.stop();
  await proxy?.close();
  proxy = undefined;
  await srv?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function serve(options: { heartbeatMs: number }): Promise<void> {
  srv = await startTestServer({ heartbeatMs: options.heartbeatMs, retryMs: 50 });
  subToken = await srv.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
  pubToken = await srv.token({ user: 'ci', scope: 'publish', topics: ['ops'] });
}

const stateFile = () => join(dir, 'state.sqlite');

function startAgent(server: string, config: Partial<AgentConfigInput> = {}, deps: AgentDeps = {}): Harness {
  const agent = new Agent(
    {
      server,
      token: subToken,
      topics: ['ops'],
      backoff: { baseMs: 50, capMs: 500 },
      sleepDetection: false,
      // Live only on a first run unless a test is about the look back.
      initialReplay: 'none',
      ...config,
    },
    { store: new SqliteAgentStore(stateFile()), ...deps },
  );
  const h: Harness = { agent, alarms: [], states: [], warnings: [], gaps: [] };
  agent.on('alarm', (alarm, info) => h.alarms.push({ alarm, replayed: info.replayed }));
  agent.on('state', (s) => h.states.push(s));
  agent.on('warning', (w) => h.warnings.push(w));
  agent.on('gap', (g) => h.gaps.push(g));
  running.push(agent);
  void agent.start();
  return h;
}

async function stopAgent(h: Harness): Promise<void> {
  await h.agent.stop();
  running.splice(running.indexOf(h.agent), 1);
}

const live = (h: Harness) => waitFor('live', () => h.agent.state.status === 'live');
const titles = (h: Harness) => h.alarms.map((a) => a.alarm.title);
const publish = (title: string) => srv.publish(pubToken, { topic: 'ops', title });

describe('agent with the real server', () => {
  it('delivers live, and after being away (server restarted meanwhile) gets exactly the missed alarms once', async () => {
    await serve({ heartbeatMs: 1_000 });
    const first = startAgent(srv.url);
    await live(first);
    await publish('one');
    await publish('two');
    await waitFor('two live alarms', () => first.alarms.length === 2);
    expect(first.alarms.every((a) => !a.replayed)).toBe(true);

    // The server goes down; the agent notices and retries.
    await srv.stop();
    await waitFor('reconnecting', () => first.agent.state.status === 'reconnecting');
    // The app is closed too; meanwhile the server comes back and alarms are published.
    await stopAgent(first);
    const saved = new SqliteAgentStore(stateFile());
    expect(saved.load().position).toMatchObject({ id: first.alarms[1]?.alarm.id });
    saved.close();
    await srv.restart();
    for (const title of ['three', 'four', 'five']) await publish(title);

    // The app starts again from its cursor file: exactly the missed alarms, once, marked replayed.
    const second = startAgent(srv.url);
    await live(second);
    expect(titles(second)).toEqual(['three', 'four', 'five']);
    expect(second.alarms.every((a) => a.replayed)).toBe(true);

    // A server restart while the agent runs: it reconnects by itself and resumes from its cursor.
    await srv.restart();
    await waitFor('reconnected', () => second.states.filter((s) => s.status === 'live').length >= 2);
    await publish('six');
    await waitFor('six', () => second.alarms.length === 4);
    expect(titles(second)).toEqual(['three', 'four', 'five', 'six']);
    expect(second.warnings).toEqual([]);
    expect(second.gaps).toEqual([]);
  });

  it('a damaged cursor: one clear warning, de-duplicated against history, nothing shown twice', async () => {
    await serve({ heartbeatMs: 1_000 });
    const first = startAgent(srv.url);
    await live(first);
    for (const title of ['a', 'b', 'c']) await publish(title);
    await waitFor('three alarms', () => first.alarms.length === 3);
    await stopAgent(first);
    const db = new DatabaseSync(stateFile());
    db.exec("UPDATE position SET id = 'garbage', time = -1");
    db.close();
    await publish('d');
    const h = startAgent(srv.url);
    await live(h);
    await publish('e');
    await waitFor('the sentinel', () => titles(h).includes('e'));
    expect(h.warnings.map((w) => w.code)).toEqual(['cursor-corrupt']);
    expect(titles(h)).toEqual(['d', 'e']);
  });

  it('heals a half-open connection: heartbeats keep it alive, silence trips the watchdog, nothing is lost', async () => {
    await serve({ heartbeatMs: 150 });
    proxy = await startFaultProxy(srv.url);
    const h = startAgent(proxy.url);
    await live(h);
    // Quiet for many heartbeat intervals: comment frames alone keep the watchdog fed.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(h.agent.state.status).toBe('live');
    expect(proxy.connections).toBe(1);

    // The path dies silently: no FIN, no RST, bytes just stop.
    proxy.freeze();
    const lost = await publish('sent into the void');
    await waitFor('the watchdog to fire', () =>
      h.states.some((s) => s.status === 'reconnecting' && s.reason === 'heartbeat-timeout'),
    );
    await waitFor(
      'a fresh connection',
      () => h.agent.state.status === 'live' && proxy !== undefined && proxy.connections >= 2,
    );
    await waitFor('the alarm, replayed', () => h.alarms.length === 1);
    expect(h.alarms[0]?.alarm.id).toBe(lost.id);
    expect(h.alarms[0]?.replayed).toBe(true);
    await publish('after');
    await waitFor('live again', () => h.alarms.length === 2);
    expect(titles(h)).toEqual(['sent into the void', 'after']);
    // The frozen connection is still open at the server's end, but the agent's new stream (same
    // X-Tocsin-Client id) replaced it: it holds no slot against the token's stream cap.
    expect(srv.server.context.registry.size).toBe(1);
  });

  it('suspend closes the stream, resume reconnects at once and replays what was missed', async () => {
    await serve({ heartbeatMs: 1_000 });
    const power = new PowerEventHub();
    const h = startAgent(srv.url, {}, { power });
    await live(h);
    power.emit('suspend');
    expect(h.agent.state.status).toBe('suspended');
    await waitFor('the server to see the stream close', () => srv.server.context.registry.size === 0);
    await publish('while asleep');
    expect(h.alarms).toEqual([]);
    power.emit('resume');
    await live(h);
    // Replayed, and only once: it did not reach the agent while it slept.
    expect(h.alarms.map((a) => [a.alarm.title, a.replayed])).toEqual([['while asleep', true]]);
    expect(h.states.map((s) => s.status)).toEqual(['connecting', 'live', 'suspended', 'connecting', 'live']);
  });

  it('detects an unannounced sleep by timer drift and resumes through a fresh connection', async () => {
    // A long heartbeat, so only the drift detector can explain a quick reconnect.
    await serve({ heartbeatMs: 20_000 });
    proxy = await startFaultProxy(srv.url);
    const clock = new OffsetClock();
    const h = startAgent(proxy.url, { sleepDetection: { intervalMs: 100, thresholdMs: 5_000 } }, { clock });
    await live(h);
    // The laptop sleeps: its connection is dead but nobody said so, and the wall clock jumps.
    proxy.freeze();
    await publish('during sleep');
    clock.offsetMs += 30 * 60_000;
    await waitFor('a drift resume', () =>
      h.states.some((s) => s.status === 'connecting' && s.reason === 'clock-drift'),
    );
    await waitFor('the missed alarm', () => h.alarms.length === 1);
    expect(h.alarms[0]?.alarm.title).toBe('during sleep');
    expect(h.states.some((s) => s.status === 'reconnecting' && s.reason === 'heartbeat-timeout')).toBe(false);
  });
});
