import { afterEach, describe, expect, it } from 'vitest';
import { CURSOR_TIME_HEADER } from '../../protocol/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream, type StreamOptions } from '../helpers/sse-client.ts';

let server: TestServer | undefined;
const streams: RawStream[] = [];
async function open(s: TestServer, options: StreamOptions): Promise<RawStream> {
  const stream = await RawStream.open(s.url, options);
  streams.push(stream);
  return stream;
}
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await server?.dispose();
  server = undefined;
});

async function publishMany(s: TestServer, n: number, user = 'alice'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await s.publish(s.adminToken, { user, title: `n${i}` })).id);
  return ids;
}

describe('where a stream starts (one cursor rule for every client)', () => {
  it('without a cursor: live only, nothing replayed, and ready says so', async () => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    await publishMany(server, 3);
    const stream = await open(server, { token });
    await stream.waitForEvent('ready');
    expect(stream.alarmIds()).toEqual([]);
    expect(JSON.parse(stream.frames.at(-1)?.data ?? '{}').cursor).toBeNull();
    const [live] = await publishMany(server, 1);
    await stream.waitForAlarms(1);
    expect(stream.alarmIds()).toEqual([live]);
  });

  it("reads event-source-polyfill's ?lastEventId=, with the header first, then lastEventId, then since", async () => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const ids = await publishMany(server, 4);
    const polyfill = await open(server, { token, query: { lastEventId: ids[1] as string } });
    await polyfill.waitForEvent('ready');
    expect(polyfill.alarmIds()).toEqual(ids.slice(2));

    const all = await open(server, {
      token,
      lastEventId: ids[2],
      query: { lastEventId: ids[0] as string },
      since: ids[1],
    });
    await all.waitForEvent('ready');
    expect(all.alarmIds()).toEqual(ids.slice(3));

    const queryOnly = await open(server, { token, query: { lastEventId: ids[1] as string }, since: ids[0] });
    await queryOnly.waitForEvent('ready');
    expect(queryOnly.alarmIds()).toEqual(ids.slice(2));

    const bad = await open(server, { token, query: { lastEventId: 'x1' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'bad-last-event-id' });
  });

  it('since=all, since=<duration> and since=<unix seconds> count from the server clock', async () => {
    let clock = Date.UTC(2026, 10, 30, 12, 0, 0);
    server = await startTestServer({ deps: { now: () => clock } });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const [old] = await publishMany(server, 1); // 12:00
    clock += 2 * 3_600_000;
    const [recent] = await publishMany(server, 1); // 14:00
    clock += 600_000; // now 14:10

    const all = await open(server, { token, since: 'all' });
    await all.waitForEvent('ready');
    expect(all.alarmIds()).toEqual([old, recent]);

    const lastHour = await open(server, { token, since: '1h' });
    await lastHour.waitForEvent('ready');
    expect(lastHour.alarmIds()).toEqual([recent]);

    const lastDay = await open(server, { token, since: '1d' });
    await lastDay.waitForEvent('ready');
    expect(lastDay.alarmIds()).toEqual([old, recent]);

    const fromUnix = await open(server, { token, since: String(Date.UTC(2026, 10, 30, 13, 0, 0) / 1000) });
    await fromUnix.waitForEvent('ready');
    expect(fromUnix.alarmIds()).toEqual([recent]);

    const bad = await open(server, { token, since: '10 minutes' });
    expect(bad.status).toBe(400);
  });

  it('announces a rolled-back history (same id, another time) with a gap, then replays what it holds', async () => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const [first, second] = await publishMany(server, 2);
    const seen = await open(server, { token, since: 'all' });
    await seen.waitForAlarms(2);
    const time = seen.alarms()[1]?.time as number;

    // The client's record of alarm `second` matches: no gap.
    const same = await open(server, {
      token,
      lastEventId: second,
      headers: { [CURSOR_TIME_HEADER]: String(time) },
    });
    await same.waitForEvent('ready');
    expect(same.frames.map((f) => f.event)).toEqual(['ready']);

    // A restored backup reissued that id for another alarm: the client's time does not match.
    const rolled = await open(server, {
      token,
      lastEventId: second,
      headers: { [CURSOR_TIME_HEADER]: String(time + 1) },
    });
    await rolled.waitForEvent('ready');
    expect(rolled.frames[0]?.event).toBe('gap');
    expect(JSON.parse(rolled.frames[0]?.data ?? '{}')).toEqual({
      reason: 'unknown',
      after: second,
      through: null,
    });
    expect(rolled.alarmIds()).toEqual([first, second]);
  });

  it('serves the same replay from the recent window as from the store', async () => {
    // A window of 5 alarms: cursors inside it come from memory, older ones from SQLite.
    server = await startTestServer({ recentWindow: { maxAlarms: 5, maxBytes: 1 << 20 } });
    const token = await server.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const body = i % 3 === 0 ? { topic: 'other', title: `o${i}` } : { topic: 'ops', title: `t${i}` };
      ids.push((await server.publish(server.adminToken, body)).id);
    }
    const visible = ids.filter((_, i) => i % 3 !== 0);
    for (const from of [null, ...ids]) {
      const stream = await open(
        server,
        from === null ? { token, since: 'all' } : { token, lastEventId: from },
      );
      await stream.waitForEvent('ready');
      const expected = from === null ? visible : visible.filter((id) => Number(id) > Number(from));
      expect(stream.alarmIds()).toEqual(expected);
      stream.close();
    }
  });

  it('puts retry: inside the first frame and heartbeats as comment lines that dispatch nothing', async () => {
    server = await startTestServer({ heartbeatMs: 50, retryMs: 1234 });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const stream = await open(server, { token });
    await stream.waitFor((s) => s.comments >= 3);
    expect(stream.retries).toEqual([1234]);
    // Only the ready event was dispatched: no empty frames from the retry or the heartbeats.
    expect(stream.frames.map((f) => f.event)).toEqual(['ready']);
    expect(stream.raw.startsWith('retry: 1234\nevent: ready\n')).toBe(true);
    expect(stream.raw).not.toContain('\n\n\n');
  });

  it('answers HEAD /v1/stream with the stream headers, without opening a stream', async () => {
    server = await startTestServer({ maxStreamsPerToken: 1 });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    for (let i = 0; i < 3; i++) {
      const head = await fetch(`${server.url}/v1/stream`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
    }
    expect(server.server.context.registry.size).toBe(0);
    const unauthenticated = await fetch(`${server.url}/v1/stream`, { method: 'HEAD' });
    expect(unauthenticated.status).toBe(401);
    const stream = await open(server, { token }); // the one slot is still free
    await stream.waitForEvent('ready');
  });
});
