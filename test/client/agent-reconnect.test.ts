import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentWarning, type GapNotice } from '../../client/agent.ts';
import { SqliteAgentStore } from '../../client/agent-store.ts';
import type { AgentConfigInput } from '../../client/config.ts';
import { PowerEventHub } from '../../client/power.ts';
import { type ConnectionState, canTransition } from '../../client/state.ts';
import type { Alarm } from '../../protocol/index.ts';
import { ManualClock } from '../helpers/client-clock.ts';
import { type TrackedFetch, trackingFetch } from '../helpers/client-fetch.ts';
import {
  alarmFrame,
  gapFrame,
  makeAlarm,
  openSse,
  readyFrame,
  type ScenarioRequest,
  type ScenarioServer,
  sendProblem,
  startScenarioServer,
} from '../helpers/client-sse-server.ts';
import { waitFor } from '../helpers/client-wait.ts';

/**
 * The agent against a scripted SSE server, with a manual clock: every backoff delay, Retry-After wait
 * and watchdog deadline is checked exactly, and no test sleeps through one.
 */

let server: ScenarioServer;
let clock: ManualClock;
let tracked: TrackedFetch;
let agent: Agent | undefined;
let states: ConnectionState[];
let alarms: { alarm: Alarm; replayed: boolean }[];
let warnings: AgentWarning[];
let gaps: GapNotice[];

beforeEach(async () => {
  server = await startScenarioServer();
  clock = new ManualClock();
  tracked = trackingFetch();
  states = [];
  alarms = [];
  warnings = [];
  gaps = [];
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await server.close();
  // The invariant every scenario must keep.
  expect(tracked.overlaps).toEqual([]);
});

/** An in-memory store that already received `seen` (shown) and stands at `at`. */
function storeAt(at: string | null, seen: string[] = []): SqliteAgentStore {
  const store = new SqliteAgentStore(':memory:');
  for (const id of seen) {
    store.record(makeAlarm({ id }), 'store-a');
    store.markShown(makeAlarm({ id }));
  }
  if (at !== null) store.advance(makeAlarm({ id: at }), 'store-a');
  return store;
}

function makeAgent(
  config: Partial<AgentConfigInput> = {},
  deps: { store?: SqliteAgentStore; power?: PowerEventHub } = {},
): Agent {
  const created = new Agent(
    {
      server: server.url,
      token: 'tok-1',
      topics: ['ops'],
      backoff: { baseMs: 1_000, capMs: 8_000 },
      connectTimeoutMs: 5_000,
      replayTimeoutMs: 10_000,
      sleepDetection: false,
      ...config,
    },
    {
      clock,
      random: () => 0.5,
      fetch: tracked.fetch,
      ...(deps.store ? { store: deps.store } : {}),
      ...(deps.power ? { power: deps.power } : {}),
    },
  );
  created.on('state', (state, previous) => {
    // Every observed transition must be one the state machine allows.
    expect(canTransition(previous.status, state.status), `${previous.status} → ${state.status}`).toBe(true);
    states.push(state);
  });
  created.on('alarm', (alarm, info) => alarms.push({ alarm, replayed: info.replayed }));
  created.on('warning', (w) => warnings.push(w));
  created.on('gap', (g) => gaps.push(g));
  agent = created;
  return created;
}

const current = () => {
  if (agent === undefined) throw new Error('no agent');
  return agent.state;
};

async function waitStatus<S extends ConnectionState['status']>(
  status: S,
  extra: (s: Extract<ConnectionState, { status: S }>) => boolean = () => true,
): Promise<Extract<ConnectionState, { status: S }>> {
  return waitFor(`state ${status}`, () => {
    const s = current();
    return s.status === status && extra(s as Extract<ConnectionState, { status: S }>)
      ? (s as Extract<ConnectionState, { status: S }>)
      : undefined;
  });
}

/** Opens a stream on the request and sends `ready`. */
async function goLive(
  r: ScenarioRequest,
  opts: { heartbeatMs?: number; storeId?: string; frames?: string[] } = {},
) {
  openSse(r.res);
  for (const frame of opts.frames ?? []) r.res.write(frame);
  r.res.write(
    readyFrame({ heartbeatMs: opts.heartbeatMs ?? 60_000, cursor: null, storeId: opts.storeId ?? 'store-a' }),
  );
  await waitStatus('live');
}

describe('agent reconnect policy', () => {
  it('backs off exponentially with equal jitter up to the cap, sending the bearer token each time', async () => {
    await makeAgent().start();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const r = await server.next();
      expect(r.req.headers.authorization).toBe('Bearer tok-1');
      expect(r.url.pathname).toBe('/v1/stream');
      expect(r.url.searchParams.get('topics')).toBe('ops');
      sendProblem(r.res, 500, 'internal');
      const s = await waitStatus('reconnecting', (s) => s.attempt === attempt);
      expect(s.reason).toBe('http-error');
      expect(s.httpStatus).toBe(500);
      delays.push(s.nextAttemptAt - clock.now());
      // Nothing happens before the delay is over.
      clock.advance(s.nextAttemptAt - clock.now() - 1);
      expect(server.waiting).toBe(0);
      clock.advance(1);
    }
    // random() = 0.5: three quarters of 1 s, 2 s, 4 s, 8 s (cap), 8 s, 8 s.
    expect(delays).toEqual([750, 1_500, 3_000, 6_000, 6_000, 6_000]);
  });

  it('a connection that reached ready is not a failure: the next wait is the server retry, however short it lived', async () => {
    await makeAgent().start();
    for (let i = 0; i < 3; i++) {
      sendProblem((await server.next()).res, 502, 'internal');
      const s = await waitStatus('reconnecting', (s) => s.attempt === i + 1);
      clock.advance(s.nextAttemptAt - clock.now());
    }
    // Live for 1 s, then ended cleanly (a proxy with a maximum connection age): back to the retry.
    for (let i = 0; i < 3; i++) {
      const r = await server.next();
      openSse(r.res, 200);
      r.res.write(readyFrame({ heartbeatMs: 60_000, cursor: null, storeId: 's' }));
      await waitStatus('live');
      clock.advance(1_000);
      r.res.end();
      const s = await waitStatus('reconnecting');
      expect(s).toMatchObject({ reason: 'server-closed', attempt: 0 });
      // retry: 200 jittered ×[0.5, 1.5): 200 at random 0.5.
      expect(s.delayMs).toBe(200);
      clock.advance(s.delayMs);
    }
  });

  it('honours Retry-After on 429 and 503', async () => {
    await makeAgent().start();
    sendProblem((await server.next()).res, 429, 'too-many-streams', { retryAfter: '7' });
    let s = await waitStatus('reconnecting');
    expect(s).toMatchObject({ reason: 'rate-limited', httpStatus: 429 });
    expect(s.nextAttemptAt - clock.now()).toBe(7_500);
    clock.advance(7_499);
    expect(server.waiting).toBe(0);
    clock.advance(1);

    sendProblem((await server.next()).res, 503, 'unavailable', { retryAfter: '2', detail: 'store is down' });
    s = await waitStatus('reconnecting', (s) => s.attempt === 2);
    expect(s).toMatchObject({ reason: 'unavailable', httpStatus: 503 });
    expect(s.detail).toContain('store is down');
    expect(s.nextAttemptAt - clock.now()).toBe(2_500);
  });

  it('stops on 401 without retrying, and resumes when given a new token', async () => {
    await makeAgent().start();
    sendProblem((await server.next()).res, 401, 'unauthorized', {
      detail: 'the token is unknown, malformed or revoked',
    });
    const s = await waitStatus('auth-required');
    expect(s).toMatchObject({ reason: 'unauthorized', detail: 'the token is unknown, malformed or revoked' });
    expect(clock.pending()).toEqual([]);
    clock.advance(60 * 60_000);

    // The token never leaks into what the agent exposes (a renderer may be shown any of it).
    expect(JSON.stringify([agent?.config, states, warnings, agent?.state])).not.toContain('tok-1');

    agent?.setToken('tok-2');
    // The new token's request is the sentinel: a retry after the hour would have reached the server first.
    const r = await server.next();
    expect(r.req.headers.authorization).toBe('Bearer tok-2');
    expect(server.requests).toHaveLength(2);
    await goLive(r);
  });

  it('stops on 403 as well', async () => {
    await makeAgent().start();
    sendProblem((await server.next()).res, 403, 'forbidden', { detail: 'this token has scope "publish"' });
    expect(await waitStatus('auth-required')).toMatchObject({ reason: 'forbidden' });
    expect(clock.pending()).toEqual([]);
  });

  it('keeps retrying a 404 and a 400, saying why, and comes back when the server does', async () => {
    await makeAgent().start();
    sendProblem((await server.next()).res, 404, 'not-found');
    let s = await waitStatus('reconnecting');
    expect(s).toMatchObject({ reason: 'not-found', httpStatus: 404 });
    expect(s.detail).toContain('is the URL right?');
    clock.advance(s.delayMs);
    sendProblem((await server.next()).res, 400, 'bad-request', { detail: 'unknown topic' });
    s = await waitStatus('reconnecting', (x) => x.attempt === 2);
    expect(s).toMatchObject({ reason: 'rejected', httpStatus: 400 });
    expect(s.detail).toContain('unknown topic');
    clock.advance(s.delayMs);
    await goLive(await server.next());
  });

  it('treats a wrong content type and a refused connection as retryable', async () => {
    await makeAgent().start();
    const r = await server.next();
    r.res.writeHead(200, { 'content-type': 'text/html' });
    r.res.end('<html>captive portal</html>');
    const s = await waitStatus('reconnecting');
    expect(s.reason).toBe('bad-response');
    expect(s.detail).toContain('captive portal');
    await server.close();
    clock.advance(s.nextAttemptAt - clock.now());
    expect(await waitStatus('reconnecting', (x) => x.attempt === 2)).toMatchObject({
      reason: 'network-error',
    });
    expect(current().status).toBe('reconnecting');
    server = await startScenarioServer();
  });

  it('a connect that gets no answer costs the connect timeout, not the replay or heartbeat allowance', async () => {
    // A server that accepts and never answers: the headers never come.
    await makeAgent().start();
    await server.next();
    clock.advance(4_999);
    expect(current().status).toBe('connecting');
    clock.advance(1);
    expect(current()).toMatchObject({ status: 'reconnecting', reason: 'connect-timeout' });
  });
});

describe('agent stream handling', () => {
  it('resumes with Last-Event-ID from the last alarm, marking replayed alarms', async () => {
    await makeAgent({}, { store: storeAt('10') }).start();
    let r = await server.next();
    expect(r.req.headers['last-event-id']).toBe('10');
    expect(r.req.headers['x-tocsin-cursor-time']).toBe(String(makeAlarm({ id: '10' }).time));
    expect(r.url.searchParams.get('since')).toBeNull();
    await goLive(r, { frames: [alarmFrame(makeAlarm({ id: '11' })), alarmFrame(makeAlarm({ id: '12' }))] });
    r.res.write(alarmFrame(makeAlarm({ id: '13' })));
    await waitFor('live alarm', () => alarms.length === 3);
    expect(alarms.map((a) => [a.alarm.id, a.replayed])).toEqual([
      ['11', true],
      ['12', true],
      ['13', false],
    ]);
    r.res.end();
    const s = await waitStatus('reconnecting');
    clock.advance(s.nextAttemptAt - clock.now());
    r = await server.next();
    expect(r.req.headers['last-event-id']).toBe('13');
    expect(agent?.position).toEqual({ id: '13', time: makeAlarm({ id: '13' }).time, storeId: 'store-a' });
  });

  it('skips malformed frames with a warning and keeps the stream', async () => {
    await makeAgent().start();
    const r = await server.next();
    await goLive(r);
    r.res.write('event: alarm\ndata: {not json\n\n');
    r.res.write(`event: alarm\ndata: ${JSON.stringify({ id: 'x', title: '' })}\n\n`);
    r.res.write('data: unnamed\n\n');
    r.res.write('event: ready\ndata: {"heartbeatMs":-1}\n\n');
    r.res.write(alarmFrame(makeAlarm({ id: '20' })));
    await waitFor('the valid alarm', () => alarms.length === 1);
    expect(alarms[0]?.alarm.id).toBe('20');
    expect(warnings.map((w) => w.code)).toEqual([
      'malformed-frame',
      'malformed-frame',
      'malformed-frame',
      'malformed-frame',
    ]);
    expect(current().status).toBe('live');
  });

  it('survives a listener that throws', async () => {
    const created = makeAgent();
    created.on('alarm', (alarm) => {
      if (alarm.id === '1') throw new Error('boom');
    });
    await created.start();
    const r = await server.next();
    await goLive(r, { frames: [alarmFrame(makeAlarm({ id: '1' })), alarmFrame(makeAlarm({ id: '2' }))] });
    await waitFor('both alarms', () => alarms.length === 2);
    expect(warnings.map((w) => w.code)).toContain('listener-failed');
    expect(created.position?.id).toBe('2');
  });

  it('de-duplicates by id and time across replays, still advancing the cursor', async () => {
    await makeAgent({}, { store: storeAt('5', ['4', '5']) }).start();
    const r = await server.next();
    await goLive(r, {
      frames: [
        ...['5', '6', '6', '7'].map((id) => alarmFrame(makeAlarm({ id }))),
        // Same id as one already shown, another time: a reissued id, a different alarm.
        alarmFrame(makeAlarm({ id: '4', time: 1 })),
      ],
    });
    await waitFor('alarms', () => alarms.length === 3);
    expect(alarms.map((a) => [a.alarm.id, a.alarm.time === 1])).toEqual([
      ['6', false],
      ['7', false],
      ['4', true],
    ]);
    expect(agent?.position?.id).toBe('4');
  });

  it("live with nothing received yet: the next connection resumes from ready's cursor, never live-only", async () => {
    await makeAgent({ initialReplay: 'none' }).start();
    let r = await server.next();
    expect(r.url.searchParams.get('since')).toBeNull();
    openSse(r.res);
    r.res.write(readyFrame({ heartbeatMs: 60_000, cursor: '9', storeId: 'store-a' }));
    await waitStatus('live');
    r.res.end();
    let s = await waitStatus('reconnecting');
    clock.advance(s.delayMs);
    r = await server.next();
    expect(r.req.headers['last-event-id']).toBe('9');
    expect(r.req.headers['x-tocsin-cursor-time']).toBeUndefined();

    // An empty store (cursor null): ask for everything it will have by then.
    await agent?.stop();
    agent = undefined;
    await makeAgent({ initialReplay: 'none' }).start();
    r = await server.next();
    openSse(r.res);
    r.res.write(readyFrame({ heartbeatMs: 60_000, cursor: null, storeId: 'store-a' }));
    await waitStatus('live');
    r.res.end();
    s = await waitStatus('reconnecting');
    clock.advance(s.delayMs);
    r = await server.next();
    expect(r.url.searchParams.get('since')).toBe('all');
  });

  it('the first run asks for the configured look back, and calls what it brings a backlog', async () => {
    const backlog: [number, string][] = [];
    const created = makeAgent({ initialReplay: '2h' });
    created.on('backlog', (count, reason) => backlog.push([count, reason]));
    await created.start();
    const r = await server.next();
    expect(r.url.searchParams.get('since')).toBe('2h');
    expect(r.req.headers['last-event-id']).toBeUndefined();
    await goLive(r, { frames: ['1', '2'].map((id) => alarmFrame(makeAlarm({ id }))) });
    expect(backlog).toEqual([[2, 'first-run']]);
    r.res.write(alarmFrame(makeAlarm({ id: '3' })));
    await waitFor('live alarm', () => alarms.length === 3);
    expect(alarms.map((a) => a.replayed)).toEqual([true, true, false]);
  });

  it('aborts a stream that goes silent for 2.5 heartbeats (and a replay that stalls)', async () => {
    await makeAgent().start();
    let r = await server.next();
    await goLive(r, { heartbeatMs: 1_000 });
    clock.advance(2_499);
    expect(current().status).toBe('live');
    clock.advance(1);
    expect(current()).toMatchObject({ status: 'reconnecting', reason: 'heartbeat-timeout' });
    await r.closed;

    // Headers but never a byte more: the replay allowance (10 s here) applies before `ready`.
    clock.advance((current() as { nextAttemptAt: number }).nextAttemptAt - clock.now());
    r = await server.next();
    openSse(r.res);
    await waitStatus('connecting');
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(9_999);
    expect(current().status).toBe('connecting');
    clock.advance(1);
    expect(current()).toMatchObject({ status: 'reconnecting', reason: 'heartbeat-timeout' });
    await r.closed;
  });

  it('a wall clock stepped back 2 minutes does not stretch the watchdog (monotonic time)', async () => {
    await makeAgent().start();
    const r = await server.next();
    await goLive(r, { heartbeatMs: 2_000 });
    clock.advance(1_000);
    clock.step(-2 * 60_000);
    clock.advance(3_999);
    expect(current().status).toBe('live');
    clock.advance(1);
    expect(current()).toMatchObject({ status: 'reconnecting', reason: 'heartbeat-timeout' });
  });

  it('surfaces a pruned gap', async () => {
    await makeAgent({}, { store: storeAt('3') }).start();
    const r = await server.next();
    await goLive(r, {
      frames: [gapFrame({ reason: 'pruned', after: '3', through: '9' }), alarmFrame(makeAlarm({ id: '10' }))],
    });
    expect(gaps).toMatchObject([{ kind: 'pruned', after: '3', through: '9' }]);
    expect(alarms.map((a) => a.alarm.id)).toEqual(['10']);
  });

  it('after a rollback (gap "unknown"), shows the reissued ids as a backlog and skips what it showed', async () => {
    const backlog: [number, string][] = [];
    const created = makeAgent({}, { store: storeAt('500', ['1', '2']) });
    created.on('backlog', (count, reason) => backlog.push([count, reason]));
    await created.start();
    const r = await server.next();
    await goLive(r, {
      frames: [
        gapFrame({ reason: 'unknown', after: '500', through: null }),
        // 1 is the alarm shown before (same id, same time); 2 and 3 were issued after the restore.
        alarmFrame(makeAlarm({ id: '1' })),
        alarmFrame(makeAlarm({ id: '2', time: 5 })),
        alarmFrame(makeAlarm({ id: '3', time: 6 })),
      ],
    });
    expect(gaps.map((g) => g.kind)).toEqual(['store-reset']);
    expect(alarms.map((a) => [a.alarm.id, a.replayed])).toEqual([
      ['2', true],
      ['3', true],
    ]);
    expect(backlog).toEqual([[2, 'store-reset']]);
    expect(agent?.position).toEqual({ id: '3', time: 6, storeId: 'store-a' });
    expect(server.requests).toHaveLength(1);
  });

  it('when ready names another store, replays everything that store holds, without repeats', async () => {
    await makeAgent({}, { store: storeAt('5') }).start();
    let r = await server.next();
    openSse(r.res);
    r.res.write(alarmFrame(makeAlarm({ id: '6' })));
    r.res.write(readyFrame({ heartbeatMs: 60_000, cursor: '6', storeId: 'store-b' }));
    r = await server.next();
    expect(r.req.headers['last-event-id']).toBeUndefined();
    expect(r.url.searchParams.get('since')).toBe('all');
    await goLive(r, {
      storeId: 'store-b',
      frames: ['1', '2', '3', '4', '5', '6'].map((id) => alarmFrame(makeAlarm({ id }))),
    });
    expect(gaps.map((g) => g.kind)).toEqual(['store-reset']);
    expect(alarms.map((a) => a.alarm.id)).toEqual(['6', '1', '2', '3', '4', '5']);
    expect(agent?.position).toEqual({ id: '6', time: makeAlarm({ id: '6' }).time, storeId: 'store-b' });
  });

  it('drops a cursor the server rejects and replays from the start of retention', async () => {
    await makeAgent({}, { store: storeAt('99') }).start();
    sendProblem((await server.next()).res, 400, 'bad-last-event-id');
    const r = await server.next();
    expect(r.req.headers['last-event-id']).toBeUndefined();
    expect(r.url.searchParams.get('since')).toBe('all');
    await goLive(r);
    expect(warnings.map((w) => w.code)).toEqual(['cursor-rejected']);
  });
});

describe('agent sleep, wake and network', () => {
  it('suspend closes the stream; resume reconnects at once from the cursor', async () => {
    const power = new PowerEventHub();
    await makeAgent({}, { power }).start();
    let r = await server.next();
    await goLive(r, { frames: [alarmFrame(makeAlarm({ id: '30' }))] });
    power.emit('suspend');
    expect(current().status).toBe('suspended');
    await r.closed;
    expect(clock.pending()).toEqual([]);

    power.emit('resume');
    r = await server.next();
    expect(r.req.headers['last-event-id']).toBe('30');
    expect(current()).toMatchObject({ status: 'connecting', reason: 'resume', attempt: 0 });
    await goLive(r, { frames: [alarmFrame(makeAlarm({ id: '31' }))] });
    expect(alarms.map((a) => [a.alarm.id, a.replayed])).toEqual([
      ['30', true],
      ['31', true],
    ]);
  });

  it('resume skips a pending backoff wait', async () => {
    const power = new PowerEventHub();
    await makeAgent({}, { power }).start();
    for (let i = 0; i < 4; i++) {
      sendProblem((await server.next()).res, 500, 'internal');
      const s = await waitStatus('reconnecting', (s) => s.attempt === i + 1);
      if (i < 3) clock.advance(s.nextAttemptAt - clock.now());
    }
    power.emit('resume');
    await goLive(await server.next());
  });

  it('offline waits for online (with a slow probe); online reconnects at once', async () => {
    const power = new PowerEventHub();
    await makeAgent({}, { power }).start();
    const r = await server.next();
    await goLive(r);
    power.emit('offline');
    expect(current()).toMatchObject({ status: 'offline' });
    await r.closed;
    expect(clock.pending()).toEqual([8_000]);

    // The probe: one attempt at capMs; it fails while still offline, so back to offline.
    clock.advance(8_000);
    sendProblem((await server.next()).res, 503, 'unavailable');
    await waitStatus('offline');

    power.emit('online');
    await goLive(await server.next());
  });

  it('timer drift (a sleep nobody announced) triggers a resume', async () => {
    await makeAgent({ sleepDetection: { intervalMs: 5_000, thresholdMs: 30_000 } }).start();
    const r = await server.next();
    await goLive(r, { heartbeatMs: 600_000 });
    clock.advance(20_000);
    expect(server.requests).toHaveLength(1);
    clock.jump(15 * 60_000);
    clock.advance(5_000);
    expect(current()).toMatchObject({ status: 'connecting', reason: 'clock-drift' });
    await r.closed;
    await goLive(await server.next());
  });

  it('never opens two streams, whatever the order of wake-ups', async () => {
    const power = new PowerEventHub();
    const created = makeAgent({ sleepDetection: { intervalMs: 1_000, thresholdMs: 5_000 } }, { power });
    await created.start();
    await goLive(await server.next());
    power.emit('resume');
    power.emit('resume');
    power.emit('online');
    created.reconnectNow();
    clock.jump(60_000);
    clock.advance(1_000);
    power.emit('suspend');
    power.emit('resume');
    // Superseded requests that reached the server close; exactly one stays open.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const open = await waitFor('one open stream', () => {
      const candidates = server.requests.filter((r) => r.index > 0 && !r.isClosed());
      return candidates.length === 1 ? candidates[0] : undefined;
    });
    await goLive(open);
    // Every superseded request was aborted before the next began (checked in afterEach).
    expect(tracked.calls).toBeGreaterThanOrEqual(4);
    expect(server.requests.filter((r) => !r.isClosed())).toHaveLength(1);
  });
});
