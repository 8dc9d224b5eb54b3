import { afterEach, describe, expect, it } from 'vitest';
import type { Problem } from '../../protocol/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

let server: TestServer | undefined;
const streams: RawStream[] = [];
async function open(s: TestServer, options: Parameters<typeof RawStream.open>[1]): Promise<RawStream> {
  const stream = await RawStream.open(s.url, options);
  streams.push(stream);
  return stream;
}
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await server?.dispose();
  server = undefined;
});

describe('replay from Last-Event-ID', () => {
  it('gives a reconnecting client exactly what it missed, in order, once', async () => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const first = await open(server, { token, topics: ['ops'] });
    await first.waitForEvent('ready');
    const before = [];
    for (let i = 0; i < 3; i++)
      before.push((await server.publish(server.adminToken, { topic: 'ops', title: `b${i}` })).id);
    await first.waitForAlarms(3);
    const lastSeen = first.frames.at(-1)?.id as string;
    first.reset();

    const missed = [];
    for (let i = 0; i < 4; i++)
      missed.push((await server.publish(server.adminToken, { topic: 'ops', title: `m${i}` })).id);
    // Noise the client must not get: another topic and another user.
    await server.publish(server.adminToken, { topic: 'other', title: 'x' });
    await server.publish(server.adminToken, { user: 'bob', title: 'x' });

    const second = await open(server, { token, topics: ['ops'], lastEventId: lastSeen });
    await second.waitForEvent('ready');
    expect(second.alarmIds()).toEqual(missed);
    const events = second.frames.map((f) => f.event);
    expect(events).toEqual(['alarm', 'alarm', 'alarm', 'alarm', 'ready']);
    expect(JSON.parse(second.frames.at(-1)?.data ?? '{}').cursor).toBe(missed.at(-1));

    const live = await server.publish(server.adminToken, { topic: 'ops', title: 'live' });
    await second.waitForAlarms(5);
    expect(second.alarmIds()).toEqual([...missed, live.id]);
  });

  it('accepts ?since= as the cursor when no Last-Event-ID is sent, and prefers the header', async () => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push((await server.publish(server.adminToken, { user: 'alice', title: `n${i}` })).id);
    const bySince = await open(server, { token, since: ids[0] });
    await bySince.waitForEvent('ready');
    expect(bySince.alarmIds()).toEqual(ids.slice(1));
    const both = await open(server, { token, since: ids[0], lastEventId: ids[1] });
    await both.waitForEvent('ready');
    expect(both.alarmIds()).toEqual(ids.slice(2));
  });

  it('loses nothing and duplicates nothing while publishes race the replay', async () => {
    server = await startTestServer({ replayPageSize: 7 });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const s = server;
    const stored = [];
    for (let i = 0; i < 50; i++)
      stored.push((await s.publish(s.adminToken, { user: 'alice', title: `old${i}` })).id);
    // Publish 50 more concurrently with the subscriber's replay.
    const racing = Promise.all(
      Array.from({ length: 50 }, (_, i) => s.publish(s.adminToken, { user: 'alice', title: `new${i}` })),
    );
    const stream = await open(s, { token, since: '0' });
    const raced = (await racing).map((r) => r.id);
    const all = [...stored, ...raced].sort((a, b) => Number(a) - Number(b));
    // One more after the race: once it arrived, a duplicate of anything before it would have, too.
    const fence = await s.publish(s.adminToken, { user: 'alice', title: 'fence' });
    await stream.waitFor((x) => x.alarmIds().includes(fence.id));
    expect(stream.alarmIds()).toEqual([...all, fence.id]);
  });

  it('sends a gap with the pruned range before replaying what retention kept', async () => {
    server = await startTestServer({ retention: { maxAgeMs: 3_600_000, maxCount: 3 } });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const ids = [];
    for (let i = 0; i < 6; i++)
      ids.push((await server.publish(server.adminToken, { user: 'alice', title: `n${i}` })).id);
    expect(await server.server.context.store.prune(Date.now())).toBe(3);
    const stream = await open(server, { token, lastEventId: ids[0] });
    await stream.waitForEvent('ready');
    expect(stream.frames[0]?.event).toBe('gap');
    expect(JSON.parse(stream.frames[0]?.data ?? '{}')).toEqual({
      reason: 'pruned',
      after: ids[0],
      through: ids[2],
    });
    expect(stream.alarmIds()).toEqual(ids.slice(3));

    // A cursor at or past the pruned range is complete: no gap.
    const fresh = await open(server, { token, lastEventId: ids[2] });
    await fresh.waitForEvent('ready');
    expect(fresh.frames.map((f) => f.event)).toEqual(['alarm', 'alarm', 'alarm', 'ready']);
  });

  it('prunes by age as well as by count', async () => {
    let clock = 1_000_000;
    server = await startTestServer({
      retention: { maxAgeMs: 60_000, maxCount: 1000 },
      deps: { now: () => clock },
    });
    await server.publish(server.adminToken, { user: 'alice', title: 'old' });
    clock += 120_000;
    const young = await server.publish(server.adminToken, { user: 'alice', title: 'young' });
    expect(await server.server.prune()).toBe(1);
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const stream = await open(server, { token, since: '0' });
    await stream.waitForEvent('ready');
    expect(stream.alarmIds()).toEqual([young.id]);
    expect(stream.frames[0]?.event).toBe('gap');
  });

  it('treats an id from another sequence as unknown: gap, then everything retained', async () => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const a = await server.publish(server.adminToken, { user: 'alice', title: 'a' });
    const stream = await open(server, { token, lastEventId: '999999' });
    await stream.waitForEvent('ready');
    expect(JSON.parse(stream.frames[0]?.data ?? '{}')).toEqual({
      reason: 'unknown',
      after: '999999',
      through: null,
    });
    expect(stream.alarmIds()).toEqual([a.id]);
  });

  it.each([
    ['garbage', 'abc'],
    ['negative', '-1'],
    ['injection', '1\r\nevent: alarm'],
    ['too long', '9'.repeat(40)],
  ])('answers a %s Last-Event-ID with 400 problem+json', async (_name, value) => {
    server = await startTestServer();
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const response = await fetch(`${server.url}/v1/stream?since=${encodeURIComponent(value)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as Problem).code).toBe('bad-last-event-id');
  });
});
