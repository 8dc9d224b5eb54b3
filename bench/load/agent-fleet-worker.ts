/**
 * A load worker running many real client agents (client/agent.ts, the library itself: its
 * EventSource, headers, watchdog and backoff), each its own Agent with its own client id. Driven over
 * IPC by measures/agent-storm.ts; stamps are CLOCK_MONOTONIC (clock.ts).
 */
import { Agent } from '../../client/agent.ts';
import { monoMs } from '../clock.ts';
import { IdLog, verifyLogs } from './id-log.ts';
import { exitWithParent } from './orphan-guard.ts';

export interface FleetSetup {
  server: string;
  token: string;
  topics: string[];
  count: number;
}

export type FleetRequest =
  | { op: 'start'; timeoutMs: number }
  /** Starts a fresh log of the ids each agent receives. */
  | { op: 'log' }
  /** Per agent, when it was live holding `lastId` (NaN: not within the timeout). */
  | { op: 'await'; lastId: number; timeoutMs: number }
  | { op: 'verify'; expected: number[] }
  | { op: 'stop' };

interface Member {
  agent: Agent;
  lastId: number;
  live: boolean;
  log: IdLog | null;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as FleetSetup;
const members: Member[] = [];
const changed = new Set<() => void>();
const notify = () => {
  for (const f of [...changed]) f();
};

for (let i = 0; i < setup.count; i++) {
  const agent = new Agent(
    { server: setup.server, token: setup.token, topics: setup.topics },
    { debug: () => {} },
  );
  const member: Member = { agent, lastId: -1, live: false, log: null };
  agent.on('state', (state) => {
    member.live = state.status === 'live';
    notify();
  });
  agent.on('alarm', (alarm) => {
    const id = Number(alarm.id);
    member.log?.push(id);
    member.lastId = Math.max(member.lastId, id);
    notify();
  });
  agent.on('warning', () => {});
  members.push(member);
}

function until(pred: (m: Member) => boolean, timeoutMs: number): Promise<number[]> {
  const times = members.map(() => Number.NaN);
  return new Promise((resolve) => {
    const check = () => {
      const now = monoMs();
      let pending = 0;
      for (const [i, m] of members.entries()) {
        if (!Number.isNaN(times[i] as number)) continue;
        if (pred(m)) times[i] = now;
        else pending++;
      }
      if (pending === 0) finish();
    };
    const finish = () => {
      clearTimeout(timer);
      changed.delete(check);
      resolve(times);
    };
    const timer = setTimeout(finish, timeoutMs);
    changed.add(check);
    check();
  });
}

async function handle(request: FleetRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      await Promise.all(members.map((m) => m.agent.start()));
      return (await until((m) => m.live, request.timeoutMs)).filter(Number.isNaN).length;
    case 'log':
      for (const m of members) m.log = new IdLog();
      return members.length;
    case 'await':
      return until((m) => m.live && m.lastId >= request.lastId, request.timeoutMs);
    case 'verify':
      return verifyLogs(
        members.map((m) => m.log),
        request.expected,
      );
    case 'stop':
      await Promise.all(members.map((m) => m.agent.stop()));
      return true;
  }
}

exitWithParent();
process.on('message', (message: { seq: number; request: FleetRequest }) => {
  handle(message.request).then(
    (value) => process.send?.({ seq: message.seq, ok: true, value }),
    (error: unknown) => process.send?.({ seq: message.seq, ok: false, error: String(error) }),
  );
});
process.send?.({ seq: 0, ok: true, value: 'up' });
