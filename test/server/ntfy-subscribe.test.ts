import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Problem } from '../../protocol/index.ts';
import { curl } from '../helpers/curl.ts';
import { LineStream } from '../helpers/line-stream.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

let server: TestServer;
let alice: string;
let bob: string;
const open: { close(): void }[] = [];
beforeAll(async () => {
  server = await startTestServer({
    ntfyKeepaliveMs: 300,
    scheduling: { minDelayMs: 1_000, maxDelayMs: 86_400_000, tickMs: 50 },
  });
  alice = await server.token({ user: 'alice', scope: 'subscribe' });
  bob = await server.token({ user: 'bob', scope: 'subscribe' });
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
afterAll(async () => {
  await server.dispose();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function ntfyPublish(topic: string, message: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/${topic}`, {
    method: 'POST',
    headers: { ...bearer(server.adminToken), ...headers },
    body: message,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string };
}

async function stream(path: string, token = alice): Promise<LineStream> {
  const s = await LineStream.open(`${server.url}${path}`, { headers: bearer(token) });
  open.push(s);
  return s;
}

describe('ntfy subscribe over HTTP: /json', () => {
  it('sends open, then live messages on the requested topics only, in ntfy’s message format', async () => {
    const s = await stream('/j1,j2/json');
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    await s.waitFor((x) => x.events().some((e) => e.event === 'open'), 'open');
    expect(s.events()[0]).toMatchObject({ event: 'open', topic: 'j1,j2' });
    const a = await ntfyPublish('j1', 'first', {
      title: 'T',
      priority: 'high',
      tags: 'a,b',
      click: 'mailto:x@example.com',
      actions: 'view, Open, https://example.com/',
      attach: 'https://example.com/f.pdf',
      icon: 'https://example.com/i.png',
      markdown: 'yes',
    });
    await ntfyPublish('elsewhere', 'not mine');
    await ntfyPublish('j2', 'second');
    await s.waitForMessages(2);
    const [first, second] = s.messages();
    expect(first).toEqual({
      id: a.id,
      time: expect.any(Number),
      expires: expect.any(Number),
      event: 'message',
      topic: 'j1',
      message: 'first',
      title: 'T',
      priority: 4,
      tags: ['a', 'b'],
      click: 'mailto:x@example.com',
      icon: 'https://example.com/i.png',
      actions: [{ id: `${a.id}-1`, action: 'view', label: 'Open', url: 'https://example.com/' }],
      attachment: { url: 'https://example.com/f.pdf', name: 'f.pdf' },
      content_type: 'text/markdown',
    });
    expect(second).toMatchObject({ topic: 'j2', message: 'second', priority: 3 });
    expect(second?.title).toBeUndefined();
    // A live ntfy stream is one of the core's streams (shared caps, revocation, shutdown).
    expect(((await (await fetch(`${server.url}/healthz`)).json()) as { streams: number }).streams).toBe(1);
  });

  it('sends keepalive events at the configured interval', async () => {
    const s = await stream('/ka/json');
    await s.waitFor((x) => x.events().filter((e) => e.event === 'keepalive').length >= 2, 'two keepalives');
    expect(s.events().find((e) => e.event === 'keepalive')).toMatchObject({ topic: 'ka' });
  });

  it('poll=1 answers with what is stored (everything without since) and closes', async () => {
    await ntfyPublish('p1', 'one');
    await ntfyPublish('p1', 'two');
    const s = await stream('/p1/json?poll=1');
    await s.waitForEnd();
    expect(s.events().map((e) => e.message)).toEqual(['one', 'two']);
    const viaCurl = await curl(['-u', `:${alice}`, `${server.url}/p1/json?poll=1&since=all`]);
    expect(
      viaCurl.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).message),
    ).toEqual(['one', 'two']);
  });

  it('since= takes all, none, an id, a duration and a unix time; no since is live only', async () => {
    const first = await ntfyPublish('s1', 'a');
    await ntfyPublish('s1', 'b');
    const poll = async (query: string) => {
      const s = await stream(`/s1/json?poll=1&${query}`);
      await s.waitForEnd();
      return s.events().map((e) => e.message);
    };
    expect(await poll('since=all')).toEqual(['a', 'b']);
    expect(await poll(`since=${first.id}`)).toEqual(['b']);
    expect(await poll('since=10m')).toEqual(['a', 'b']);
    expect(await poll('since=1h30m')).toEqual(['a', 'b']);
    expect(await poll(`since=${Math.floor(Date.now() / 1000) + 60}`)).toEqual([]);
    expect(await poll('since=none')).toEqual([]);
    expect(await poll('since=latest')).toEqual(['b']);
    await ntfyPublish('s1b', 'x');
    await ntfyPublish('s1', 'c');
    await ntfyPublish('s1b', 'y');
    const latest = await stream('/s1,s1b/json?poll=1&since=latest');
    await latest.waitForEnd();
    expect(latest.events().map((e) => e.message)).toEqual(['c', 'y']);
    const bad = await fetch(`${server.url}/s1/json?since=yesterday-ish`, { headers: bearer(alice) });
    expect(bad.status).toBe(400);
    // A live stream without since gets only what comes next (proved by a sentinel).
    const live = await stream('/s1/json');
    await live.waitFor((x) => x.events().length > 0, 'open');
    await ntfyPublish('s1', 'sentinel');
    await live.waitForMessages(1);
    expect(live.messages().map((e) => e.message)).toEqual(['sentinel']);
  });

  it('filters by id, message, title, priority (names and numbers) and tags (all of them)', async () => {
    const x = await ntfyPublish('f1', 'disk full', { title: 'db', priority: '5', tags: 'warning,db' });
    await ntfyPublish('f1', 'disk ok', { title: 'db', priority: '2', tags: 'db' });
    await ntfyPublish('f1', 'other', { priority: '4', tags: 'warning' });
    const poll = async (query: string) => {
      const s = await stream(`/f1/json?poll=1&${query}`);
      await s.waitForEnd();
      return s.events().map((e) => e.message);
    };
    expect(await poll(`id=${x.id}`)).toEqual(['disk full']);
    expect(await poll('message=disk+ok')).toEqual(['disk ok']);
    expect(await poll('title=db')).toEqual(['disk full', 'disk ok']);
    expect(await poll('priority=high,urgent')).toEqual(['disk full', 'other']);
    expect(await poll('p=2')).toEqual(['disk ok']);
    expect(await poll('tags=warning,db')).toEqual(['disk full']);
    const header = await LineStream.open(`${server.url}/f1/json?poll=1`, {
      headers: { ...bearer(alice), 'X-Tags': 'warning' },
    });
    await header.waitForEnd();
    expect(header.events().map((e) => e.message)).toEqual(['disk full', 'other']);
    const bad = await fetch(`${server.url}/f1/json?poll=1&priority=loud`, { headers: bearer(alice) });
    expect(bad.status).toBe(400);
  });

  it('scheduled=1 lists pending scheduled messages; they go live only at their time', async () => {
    const pending = await ntfyPublish('sch', 'later', { in: '5s' });
    const without = await stream('/sch/json?poll=1');
    await without.waitForEnd();
    expect(without.events()).toEqual([]);
    const withScheduled = await stream('/sch/json?poll=1&scheduled=1');
    await withScheduled.waitForEnd();
    expect(withScheduled.events()).toMatchObject([{ id: pending.id, message: 'later', event: 'message' }]);
    const live = await stream('/sch/json');
    await live.waitForMessages(1, 15_000);
    expect(live.messages()[0]).toMatchObject({ message: 'later' });
    expect(live.messages()[0]?.id).not.toBe(pending.id); // now a durable id
  });

  it('another user’s alarms are never visible, and topic ACLs apply', async () => {
    const s = await stream('/shared/json', bob);
    await s.waitFor((x) => x.events().length > 0, 'open');
    // To alice on the topic bob listens to: bob must not get it.
    const toAlice = await fetch(`${server.url}/v1/alarms`, {
      method: 'POST',
      headers: { ...bearer(server.adminToken), 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', topic: 'shared', title: 'private' }),
    });
    expect(toAlice.status).toBe(201);
    await ntfyPublish('shared', 'sentinel');
    await s.waitForMessages(1);
    expect(s.messages().map((e) => e.message)).toEqual(['sentinel']);
    const poll = await stream('/shared/json?poll=1', bob);
    await poll.waitForEnd();
    expect(poll.events().map((e) => e.message)).toEqual(['sentinel']);
    const alicePoll = await stream('/shared/json?poll=1', alice);
    await alicePoll.waitForEnd();
    expect(alicePoll.events().map((e) => e.message)).toEqual(['private', 'sentinel']);

    const limited = await server.token({ user: 'carol', scope: 'subscribe', topics: ['allowed'] });
    const denied = await fetch(`${server.url}/allowed,secret/json`, { headers: bearer(limited) });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as Problem).code).toBe('forbidden');
    const publishOnly = await server.token({ user: 'carol', scope: 'publish' });
    expect((await fetch(`${server.url}/allowed/json`, { headers: bearer(publishOnly) })).status).toBe(403);
    expect((await fetch(`${server.url}/allowed/json`)).status).toBe(401);
  });

  it('GET /{topics}/auth answers {"success":true} only for a token that may read them all', async () => {
    const ok = await fetch(`${server.url}/a1,a2/auth`, { headers: bearer(alice) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ success: true });
    const limited = await server.token({ user: 'carol', scope: 'subscribe', topics: ['a1'] });
    expect((await fetch(`${server.url}/a1,a2/auth`, { headers: bearer(limited) })).status).toBe(403);
    expect((await fetch(`${server.url}/a1/auth`)).status).toBe(401);
  });

  it('a revoked token’s /json and /ws subscriptions close within the revocation poll', async () => {
    const doomed = await server.token({ user: 'erin', scope: 'subscribe' });
    const s = await stream('/rv/json', doomed);
    await s.waitFor((x) => x.events().length > 0, 'open');
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/rv/ws`, { headers: bearer(doomed) });
    open.push({ close: () => socket.terminate() });
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => socket.on('message', () => resolve()));
    await server.server.context.tokens.revoke(doomed.split('_')[1] as string, Date.now());
    await s.waitForEnd(10_000);
    expect(await closed).toBe(1000);
    expect((await fetch(`${server.url}/rv/json`, { headers: bearer(doomed) })).status).toBe(401);
  });

  it('counts ntfy subscriptions and native streams against one per-token cap', async () => {
    const capped = await startTestServer({ maxStreamsPerToken: 2 });
    try {
      const token = await capped.token({ user: 'frank', scope: 'subscribe' });
      const native = await RawStream.open(capped.url, { token, topics: ['c'] });
      open.push(native);
      await native.waitForEvent('ready');
      const first = await LineStream.open(`${capped.url}/c/json`, { headers: bearer(token) });
      open.push(first);
      await first.waitFor((x) => x.events().length > 0, 'open');
      const third = await fetch(`${capped.url}/c/json`, { headers: bearer(token) });
      expect(third.status).toBe(429);
      expect(((await third.json()) as Problem).code).toBe('too-many-streams');
      // A poll holds no slot.
      expect((await fetch(`${capped.url}/c/json?poll=1`, { headers: bearer(token) })).status).toBe(200);
    } finally {
      await capped.dispose();
    }
  });

  it('accepts ?auth= and Basic auth, as ntfy clients send them', async () => {
    const auth = Buffer.from(`Bearer ${alice}`).toString('base64url');
    const viaQuery = await stream(`/au/json?poll=1&since=all&auth=${auth}`, 'none');
    await viaQuery.waitForEnd();
    expect(viaQuery.status).toBe(200);
    const viaBasic = await curl(['-u', `:${alice}`, `${server.url}/au/json?poll=1`]);
    expect(viaBasic.status).toBe(200);
  });
});

describe('ntfy subscribe over HTTP: /raw and /sse', () => {
  it('/raw sends one line per message (line breaks as spaces), empty lines for open', async () => {
    const s = await stream('/raw1/raw');
    expect(s.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    await s.waitFor((x) => x.lines.length >= 1, 'open line');
    await ntfyPublish('raw1', 'line one\nline two');
    await s.waitFor((x) => x.lines.includes('line one line two'), 'the message line');
    expect(s.lines[0]).toBe('');
  });

  it('/sse frames: event: open, then data-only messages with the durable id as id:', async () => {
    const s = await stream('/sse1/sse');
    expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await s.waitFor((x) => x.lines.includes('event: open'), 'open');
    const { id } = await ntfyPublish('sse1', 'hello\n\nevent: forged');
    await s.waitFor((x) => x.lines.includes(`id: ${id}`), 'the message frame');
    const dataLine = s.lines[s.lines.indexOf(`id: ${id}`) + 1] as string;
    expect(dataLine.startsWith('data: ')).toBe(true);
    expect(JSON.parse(dataLine.slice(6))).toMatchObject({ message: 'hello\n\nevent: forged' });
    expect(s.lines).not.toContain('event: forged');
  });
});

describe('ntfy subscribe over WebSocket: /ws (ws client)', () => {
  function connect(path: string, headers: Record<string, string> = bearer(alice)) {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, { headers });
    open.push({ close: () => socket.terminate() });
    const events: Record<string, unknown>[] = [];
    let pings = 0;
    socket.on('message', (data) => events.push(JSON.parse(String(data))));
    socket.on('ping', () => pings++);
    // A refused upgrade (401) also surfaces as an error event; the tests check the status instead.
    socket.on('error', () => {});
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    const until = async (predicate: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!predicate()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { socket, events, pings: () => pings, closed, until };
  }

  it('sends open, replays since=, delivers live messages as JSON text frames, and pings', async () => {
    const before = await ntfyPublish('ws1', 'stored');
    const ws = connect(`/ws1,ws2/ws?since=${Number(before.id) - 1}`);
    await ws.until(() => ws.events.length >= 2, 'open and the stored message');
    expect(ws.events[0]).toMatchObject({ event: 'open', topic: 'ws1,ws2' });
    expect(ws.events[1]).toMatchObject({ event: 'message', id: before.id, message: 'stored' });
    await ntfyPublish('ws2', 'live', { tags: 'x' });
    await ws.until(() => ws.events.length >= 3, 'the live message');
    expect(ws.events[2]).toMatchObject({ topic: 'ws2', message: 'live', tags: ['x'] });
    await ws.until(() => ws.pings() >= 2, 'two pings');
  });

  it('poll=1 sends the stored messages and closes normally', async () => {
    await ntfyPublish('ws3', 'one');
    const ws = connect('/ws3/ws?poll=1');
    expect(await ws.closed).toBe(1000);
    expect(ws.events.map((e) => e.message)).toEqual(['one']);
  });

  it('refuses a bad token or a forbidden topic before upgrading, and accepts ?auth=', async () => {
    const bad = connect('/ws4/ws', { authorization: 'Bearer tcs_000000000000_x' });
    const status = await new Promise<number>((resolve) =>
      bad.socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(401);
    const auth = Buffer.from(`Bearer ${alice}`).toString('base64url');
    const ok = connect(`/ws4/ws?auth=${auth}`, {});
    await ok.until(() => ok.events.length >= 1, 'open');
    await ntfyPublish('ws4', 'sentinel');
    await ok.until(() => ok.events.length >= 2, 'sentinel');
  });
});

const noRedis = redisUnavailable();

describe.skipIf(noRedis !== null)('ntfy subscribe with two instances on one Redis', () => {
  let redis: RedisServer;
  const instances: TestServer[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.dispose()));
    await redis?.dispose();
  });

  it('a message published on one instance reaches /json and /ws subscribers on the other; since= takes Redis ids', async () => {
    const a = await startTestServer({ redisUrl: redis.url(7) });
    const b = await startTestServer({ redisUrl: redis.url(7) });
    instances.push(a, b);
    const reader = await b.token({ user: 'dave', scope: 'subscribe' });
    const json = await LineStream.open(`${b.url}/rt/json`, { headers: bearer(reader) });
    open.push(json);
    const socket = new WebSocket(`${b.url.replace('http', 'ws')}/rt/ws`, { headers: bearer(reader) });
    open.push({ close: () => socket.terminate() });
    const wsEvents: Record<string, unknown>[] = [];
    socket.on('message', (data) => wsEvents.push(JSON.parse(String(data))));
    const opened = new Promise<void>((resolve) => socket.on('open', () => resolve()));
    await json.waitFor((x) => x.events().length > 0, 'open');
    await opened;
    // Its own open event proves the subscription is live before anything is published.
    const until = Date.now() + 10_000;
    while (wsEvents.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const first = await curl(['-u', `:${a.adminToken}`, '-d', 'via A', `${a.url}/rt`]);
    const second = await curl(['-u', `:${a.adminToken}`, '-d', 'via A again', `${a.url}/rt`]);
    const firstId = first.json<{ id: string }>().id;
    expect(firstId).toMatch(/^\d+-\d+$/);
    await json.waitForMessages(2);
    expect(json.messages().map((m) => m.message)).toEqual(['via A', 'via A again']);
    const deadline = Date.now() + 10_000;
    while (wsEvents.filter((e) => e.event === 'message').length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(wsEvents.filter((e) => e.event === 'message').map((m) => m.id)).toEqual([
      firstId,
      second.json<{ id: string }>().id,
    ]);
    const poll = await LineStream.open(`${b.url}/rt/json?poll=1&since=${firstId}`, {
      headers: bearer(reader),
    });
    await poll.waitForEnd();
    expect(poll.events().map((e) => e.message)).toEqual(['via A again']);
  }, 60_000);
});

describe('ntfy subscribe: large replays respect backpressure', () => {
  it('a reading client gets every one of 150 alarms of 27 KiB, far over the buffer cap', async () => {
    const big = await startTestServer({ maxMessageBytes: 32 * 1024, maxBufferedBytes: 64 * 1024 });
    try {
      const body = 'x'.repeat(27 * 1024);
      for (let i = 0; i < 150; i++)
        await big.publish(big.adminToken, { topic: 'bulk', title: `b${i}`, body });
      const s = await LineStream.open(`${big.url}/bulk/json?poll=1`, { headers: bearer(big.adminToken) });
      await s.waitForEnd(30_000);
      expect(s.messages()).toHaveLength(150);
      const ws = new WebSocket(`${big.url.replace('http', 'ws')}/bulk/ws?since=all`, {
        headers: bearer(big.adminToken),
      });
      let messages = 0;
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).event === 'message') messages++;
      });
      const deadline = Date.now() + 30_000;
      while (messages < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      ws.terminate();
      expect(messages).toBe(150);
    } finally {
      await big.dispose();
    }
  }, 60_000);
});

describe('ntfy subscribe: ntfy’s documented examples as fixtures', () => {
  it('the filter example returns what the docs show, in the documented message format', async () => {
    const fixture = JSON.parse(
      await readFile(new URL('../fixtures/ntfy-subscribe-api.json', import.meta.url), 'utf8'),
    ) as {
      filterExample: {
        request: string;
        publish: { topic: string; priority: string; tags: string; message: string }[];
        response: Record<string, unknown>[];
      };
      messageFields: { required: string[]; optional: string[]; events: string[] };
    };
    const { filterExample: example, messageFields: fields } = fixture;
    const s = await stream(example.request);
    await s.waitFor((x) => x.events().length > 0, 'open');
    for (const p of example.publish)
      await ntfyPublish(p.topic, p.message, { priority: p.priority, tags: p.tags });
    await ntfyPublish('alerts', 'sentinel', { priority: 'high', tags: 'zfs-error' });
    await s.waitFor((x) => x.messages().some((m) => m.message === 'sentinel'), 'the sentinel');
    const events = s.events();
    const strip = ({ id: _id, time: _time, expires: _expires, ...rest }: Record<string, unknown>) => rest;
    expect(events.slice(0, 2).map(strip)).toEqual(example.response.map(strip));
    for (const event of events) {
      for (const key of fields.required) expect(event).toHaveProperty(key);
      for (const key of Object.keys(event)) expect([...fields.required, ...fields.optional]).toContain(key);
      expect(fields.events).toContain(event.event);
      expect(typeof event.id).toBe('string');
      expect(Number.isInteger(event.time)).toBe(true);
    }
  });
});

describe('ntfy subscribe: a subscriber that stops reading', () => {
  it('is closed after the grace period, while a reading subscriber gets everything', async () => {
    const slow = await startTestServer({
      maxMessageBytes: 32 * 1024,
      maxBufferedBytes: 64 * 1024,
      slowConsumerGraceMs: 200,
      ntfyKeepaliveMs: 100,
      publishRateLimit: { max: 100_000, windowMs: 60_000 },
    });
    try {
      const { connect } = await import('node:net');
      const port = Number(new URL(slow.url).port);
      const socket = connect(port, '127.0.0.1');
      let received = 0;
      let closed = false;
      let reading = true;
      socket.on('data', (chunk) => {
        received += chunk.length;
        if (reading) {
          reading = false;
          socket.pause(); // read the headers, then stop reading
        }
      });
      socket.on('close', () => {
        closed = true;
      });
      socket.on('error', () => {});
      socket.write(`GET /slow/json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${slow.adminToken}\r\n\r\n`);
      while (received === 0) await new Promise((r) => setTimeout(r, 10));
      const reader = await LineStream.open(`${slow.url}/slow/json`, { headers: bearer(slow.adminToken) });
      open.push(reader);
      await reader.waitFor((x) => x.events().length > 0, 'open');
      const body = 'y'.repeat(27 * 1024);
      const sent = 600; // ~16 MB: far beyond the socket buffers of a peer that reads nothing
      for (let i = 0; i < sent; i++)
        await slow.publish(slow.adminToken, { topic: 'slow', title: `s${i}`, body });
      await reader.waitForMessages(sent, 30_000);
      expect(reader.messages()).toHaveLength(sent);
      // Past the grace period (keepalives keep the check going), then let the peer read again: a
      // stream the server gave up on ends; one it kept would go on forever.
      await new Promise((r) => setTimeout(r, 1_000));
      socket.resume();
      const deadline = Date.now() + 15_000;
      while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(true);
      expect(received).toBeLessThan(sent * body.length);
      socket.destroy();
    } finally {
      await slow.dispose();
    }
  }, 60_000);
});
