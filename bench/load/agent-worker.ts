/**
 * Runs one real client agent (client/agent.ts) in its own process, so that its CPU time can be read
 * from /proc and nothing of the bench shares its event loop. Driven over IPC by measures/agent.ts.
 * Stamps are CLOCK_MONOTONIC (clock.ts) like everywhere in the bench.
 */
import { Agent } from '../../client/agent.ts';
import { PowerEventHub } from '../../client/power.ts';
import type { ConnectionState } from '../../client/state.ts';
import { monoMs } from '../clock.ts';
import { exitWithParent } from './orphan-guard.ts';

export interface AgentSetup {
  server: string;
  token: string;
  topics: string[];
}

export type AgentRequest =
  | { op: 'start'; timeoutMs: number }
  | { op: 'suspend' }
  /** Sends 'resume'; answers when live (replay done) with every alarm up to `lastId` received. */
  | { op: 'resume'; lastId: number; timeoutMs: number }
  /** Answers when the agent leaves 'live' (e.g. its watchdog declared the stream dead). */
  | { op: 'await-not-live'; timeoutMs: number }
  | { op: 'await-live'; timeoutMs: number }
  /** Answers with [alarm id, received at] for every alarm since the last call, and forgets them. */
  | { op: 'receipts' }
  | { op: 'stop' };

export interface ResumeResult {
  resumedAt: number;
  liveAt: number;
  caughtUpAt: number;
  replayed: number;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as AgentSetup;
const power = new PowerEventHub();
const agent = new Agent(
  // Live only from the start: the measures publish what they time after the agent is live.
  { server: setup.server, token: setup.token, topics: setup.topics, initialReplay: 'none' },
  { power, debug: () => {} },
);
let lastAlarm = -1;
let receipts: [number, number][] = [];
let replayed = 0;
const stateWaiters = new Set<(state: ConnectionState, at: number) => void>();
const alarmWaiters = new Set<(at: number) => void>();

agent.on('state', (state) => {
  const at = monoMs();
  for (const w of [...stateWaiters]) w(state, at);
});
agent.on('alarm', (alarm, info) => {
  lastAlarm = Math.max(lastAlarm, Number(alarm.id));
  if (info.replayed) replayed++;
  const at = monoMs();
  receipts.push([Number(alarm.id), at]);
  for (const w of [...alarmWaiters]) w(at);
});
agent.on('warning', (warning) => console.error(`agent warning: ${warning.code}: ${warning.message}`));

function waitState(
  pred: (s: ConnectionState) => boolean,
  timeoutMs: number,
): Promise<{ state: ConnectionState; at: number }> {
  if (pred(agent.state)) return Promise.resolve({ state: agent.state, at: monoMs() });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stateWaiters.delete(waiter);
      reject(new Error(`agent state stayed ${agent.state.status} for ${timeoutMs} ms`));
    }, timeoutMs);
    const waiter = (state: ConnectionState, at: number) => {
      if (!pred(state)) return;
      clearTimeout(timer);
      stateWaiters.delete(waiter);
      resolve({ state, at });
    };
    stateWaiters.add(waiter);
  });
}

function waitAlarm(lastId: number, timeoutMs: number): Promise<number> {
  if (lastAlarm >= lastId) return Promise.resolve(monoMs());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`agent got alarms up to ${lastAlarm}, not ${lastId}`)),
      timeoutMs,
    );
    const waiter = (at: number) => {
      if (lastAlarm < lastId) return;
      clearTimeout(timer);
      alarmWaiters.delete(waiter);
      resolve(at);
    };
    alarmWaiters.add(waiter);
  });
}

const isLive = (s: ConnectionState) => s.status === 'live';

async function handle(request: AgentRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      await agent.start();
      return (await waitState(isLive, request.timeoutMs)).at;
    case 'suspend':
      power.emit('suspend');
      return agent.state.status;
    case 'resume': {
      replayed = 0;
      const live = waitState(isLive, request.timeoutMs);
      const resumedAt = monoMs();
      power.emit('resume');
      const liveAt = (await live).at;
      const caughtUpAt = await waitAlarm(request.lastId, request.timeoutMs);
      const result: ResumeResult = { resumedAt, liveAt, caughtUpAt, replayed };
      return result;
    }
    case 'await-not-live': {
      const left = await waitState((s) => s.status !== 'live', request.timeoutMs);
      return { at: left.at, status: left.state.status, reason: left.state.reason };
    }
    case 'await-live':
      return (await waitState(isLive, request.timeoutMs)).at;
    case 'receipts': {
      const taken = receipts;
      receipts = [];
      return taken;
    }
    case 'stop':
      await agent.stop();
      return true;
  }
}

exitWithParent();
process.on('message', (message: { seq: number; request: AgentRequest }) => {
  handle(message.request).then(
    (value) => process.send?.({ seq: message.seq, ok: true, value }),
    (error: unknown) => process.send?.({ seq: message.seq, ok: false, error: String(error) }),
  );
});
process.send?.({ seq: 0, ok: true, value: 'up' });
