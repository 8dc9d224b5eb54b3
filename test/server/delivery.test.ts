import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryResponse } from '../../protocol/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

let server: TestServer;
const streams: RawStream[] = [];
async function open(options: Parameters<typeof RawStream.open>[1]): Promise<RawStream> {
  const stream = await RawStream.open(server.url, options);
  streams.push(stream);
  return stream;
}

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await server.dispose();
});

describe('publish → subscribe', () => {
  it('opens with the stream headers, a retry line, then ready', async () => {
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const stream = await open({ token });
    expect(stream.status).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.response.headers['x-accel-buffering']).toBe('no');
    expect(stream.response.headers.connection).toBe('keep-alive');
    await stream.waitForEvent('ready');
    expect(stream.retries).toEqual([100]);
    const ready = JSON.parse(stream.frames[0]?.data ?? '{}');
    expect(ready).toMatchObject({ heartbeatMs: 1000, cursor: null });
    expect(typeof ready.storeId).toBe('string');
  });

  it('delivers each alarm once to every matching subscriber and never to others', async () => {
    const alice = await server.token({ user: 'alice', scope: 'subscribe' });
    const bob = await server.token({ user: 'bob', scope: 'subscribe' });
    const carol = await server.token({ user: 'carol', scope: 'subscribe', topics: ['ops'] });
    const aliceOps = await open({ token: alice, topics: ['ops'] });
    const aliceSecond = await open({ token: alice }); // personal only
    const bobOps = await open({ token: bob, topics: ['ops', 'db'] });
    const bobDb = await open({ token: bob, topics: ['db'] });
    const carolDefault = await open({ token: carol }); // topic-restricted token: its topics by default
    const all = [aliceOps, aliceSecond, bobOps, bobDb, carolDefault];
    await Promise.all(all.map((s) => s.waitForEvent('ready')));

    const ops = await server.publish(server.adminToken, { topic: 'ops', title: 'disk full' });
    const db = await server.publish(server.adminToken, { topic: 'db', title: 'replica lag' });
    const toAlice = await server.publish(server.adminToken, { user: 'alice', title: 'for alice only' });
    const toBobOnOps = await server.publish(server.adminToken, { user: 'bob', topic: 'ops', title: "bob's" });
    const fence = await server.publish(server.adminToken, { topic: 'ops', title: 'fence' });

    await Promise.all(
      [aliceOps, bobOps, carolDefault].map((s) => s.waitFor((x) => x.alarmIds().includes(fence.id))),
    );
    await aliceSecond.waitFor((x) => x.alarmIds().includes(toAlice.id));
    await bobDb.waitFor((x) => x.alarmIds().includes(db.id));

    expect(aliceOps.alarmIds()).toEqual([ops.id, toAlice.id, fence.id]);
    expect(aliceSecond.alarmIds()).toEqual([toAlice.id]);
    expect(bobOps.alarmIds()).toEqual([ops.id, db.id, toBobOnOps.id, fence.id]);
    expect(bobDb.alarmIds()).toEqual([db.id, toBobOnOps.id]);
    expect(carolDefault.alarmIds()).toEqual([ops.id, fence.id]);
  });

  it('?topics=* reads every topic the token may read, live and in replay', async () => {
    const any = await server.token({ user: 'dana', scope: 'subscribe' });
    const restricted = await server.token({ user: 'erin', scope: 'subscribe', topics: ['ops'] });
    const before = await server.publish(server.adminToken, { topic: 'db', title: 'before' });
    const all = await open({ token: any, topics: ['*'], since: '0' });
    const acl = await open({ token: restricted, topics: ['*'] });
    await Promise.all([all.waitForEvent('ready'), acl.waitForEvent('ready')]);
    const ops = await server.publish(server.adminToken, { topic: 'ops', title: 'ops' });
    const web = await server.publish(server.adminToken, { topic: 'web', title: 'web' });
    await server.publish(server.adminToken, { user: 'someone-else', title: 'private' });
    const own = await server.publish(server.adminToken, { user: 'dana', title: 'mine' });
    // A last alarm both may read: once it arrived, anything published before it would have, too.
    const fence = await server.publish(server.adminToken, { topic: 'ops', title: 'fence' });
    await all.waitFor((x) => x.alarmIds().includes(fence.id));
    expect(all.alarmIds()).toEqual([before.id, ops.id, web.id, own.id, fence.id]);
    await acl.waitFor((x) => x.alarmIds().includes(fence.id));
    expect(acl.alarmIds()).toEqual([ops.id, fence.id]);
    const history = await fetch(`${server.url}/v1/alarms?topics=*&since=0`, {
      headers: { authorization: `Bearer ${any}` },
    });
    expect(((await history.json()) as HistoryResponse).alarms.map((a) => a.id)).toEqual([
      before.id,
      ops.id,
      web.id,
      own.id,
      fence.id,
    ]);
  });

  it('carries every field of the alarm as JSON with the id on the frame', async () => {
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const stream = await open({ token, topics: ['ops'] });
    await stream.waitForEvent('ready');
    const sent = {
      topic: 'ops',
      title: 'Backup failed',
      body: 'line one\nline two',
      priority: 5,
      url: 'https://example.com/runbook',
      tags: ['backup', 'nightly'],
    };
    const { id, time } = await server.publish(server.adminToken, sent);
    await stream.waitForAlarms(1);
    expect(stream.frames.at(-1)?.id).toBe(id);
    expect(stream.alarms()[0]).toEqual({ ...sent, id, time });
  });

  it('keeps another user’s alarms invisible in streams and history', async () => {
    const alice = await server.token({ user: 'alice', scope: 'subscribe' });
    const mallory = await server.token({ user: 'mallory', scope: 'subscribe' });
    await server.publish(server.adminToken, { user: 'alice', title: 'secret' });
    const stream = await open({ token: mallory, since: '0' });
    await stream.waitForEvent('ready');
    expect(stream.alarmIds()).toEqual([]);
    const history = await fetch(`${server.url}/v1/alarms?since=0`, {
      headers: { authorization: `Bearer ${mallory}` },
    });
    expect(((await history.json()) as HistoryResponse).alarms).toEqual([]);
    const own = await fetch(`${server.url}/v1/alarms?since=0`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(((await own.json()) as HistoryResponse).alarms.map((a) => a.title)).toEqual(['secret']);
  });

  it('pages history with since and limit', async () => {
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await server.publish(server.adminToken, { user: 'alice', title: `n${i}` })).id);
    const get = async (query: string) =>
      (await (
        await fetch(`${server.url}/v1/alarms?${query}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as HistoryResponse;
    const first = await get('limit=2');
    expect(first.alarms.map((a) => a.id)).toEqual(ids.slice(0, 2));
    expect(first.next).toBe(ids[1]);
    const rest = await get(`since=${first.next}&limit=10`);
    expect(rest.alarms.map((a) => a.id)).toEqual(ids.slice(2));
    expect(rest.next).toBeNull();
  });

  it('tells a token who it is', async () => {
    const token = await server.token({ user: 'alice', scope: 'publish', topics: ['ops'] });
    const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: 'alice', scope: 'publish', topics: ['ops'] });
  });
});
