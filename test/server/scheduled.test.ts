import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, Problem } from '../../protocol/index.ts';
import { curl } from '../helpers/curl.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

/** Fast scheduling for tests: 1 s minimum delay, a 50 ms tick. */
const FAST = { scheduling: { minDelayMs: 1_000, maxDelayMs: 3 * 86_400_000, tickMs: 50 } };

async function history(url: string, token: string, topic: string): Promise<Alarm[]> {
  const response = await fetch(`${url}/v1/alarms?topics=${topic}&limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { alarms: Alarm[] }).alarms;
}

async function waitForHistory(url: string, token: string, topic: string, count: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alarms = await history(url, token, topic);
    if (alarms.length >= count || Date.now() > deadline) return alarms;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const servers: TestServer[] = [];
const streams: RawStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => s.dispose()));
});

async function fastServer(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer({ ...FAST, ...options });
  servers.push(server);
  return server;
}

describe('scheduled delivery (SQLite)', () => {
  it('holds an alarm until its time, then delivers it once and only then shows it in history', async () => {
    const server = await fastServer();
    const auth = ['-H', `Authorization: Bearer ${server.adminToken}`];
    const stream = await RawStream.open(server.url, { token: server.adminToken, topics: ['later'] });
    streams.push(stream);
    await stream.waitForEvent('ready');
    const before = Date.now();
    const result = await curl([...auth, '-H', 'In: 2s', '-d', 'Good morning', `${server.url}/later`]);
    expect(result.status).toBe(200);
    const answer = result.json<{ id: string; time: number; message: string }>();
    expect(answer.id).toMatch(/^s\d+$/);
    expect(answer.time).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 1);
    expect(answer.message).toBe('Good morning');
    expect(await history(server.url, server.adminToken, 'later')).toEqual([]);

    await stream.waitForAlarms(1, 15_000);
    const delivered = stream.alarms()[0] as unknown as Alarm;
    expect(delivered).toMatchObject({ topic: 'later', body: 'Good morning' });
    expect(delivered.time).toBeGreaterThanOrEqual(answer.time * 1000);
    // Sentinel: one more alarm arrives after it, and the scheduled one did not come twice.
    await server.publish(server.adminToken, { topic: 'later', title: 'sentinel' });
    await stream.waitForAlarms(2, 15_000);
    expect(stream.alarms().map((a) => a.title)).toEqual(['later', 'sentinel']);
    expect(await history(server.url, server.adminToken, 'later')).toHaveLength(2);
  });

  it('takes ntfy’s forms: Delay/X-Delay/At/X-At/In/X-In, unix seconds, durations, query, JSON, native', async () => {
    const server = await fastServer();
    const auth = ['-H', `Authorization: Bearer ${server.adminToken}`];
    const inOneHour = String(Math.floor(Date.now() / 1000) + 3600);
    const forms: string[][] = [
      ['-H', `Delay: ${inOneHour}`],
      ['-H', 'X-Delay: 30min'],
      ['-H', 'At: tomorrow, 10am'],
      ['-H', 'X-At: 2 days'],
      ['-H', 'In: 1h30m'],
      ['-H', 'X-In: 10 minutes'],
    ];
    for (const form of forms) {
      const result = await curl([...auth, ...form, '-d', 'x', `${server.url}/forms`]);
      expect(result.status, `${form.join(' ')}: ${result.body}`).toBe(200);
    }
    expect((await curl([...auth, '-X', 'POST', `${server.url}/forms?delay=1h`])).status).toBe(200);
    expect(
      (await curl([...auth, '-d', '{"topic":"forms","message":"j","delay":"2h"}', server.url])).status,
    ).toBe(200);
    const native = await fetch(`${server.url}/v1/alarms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'forms', title: 'native', deliverAt: Date.now() + 3_600_000 }),
    });
    expect(native.status).toBe(202);
    expect(await native.json()).toMatchObject({ scheduled: true });
    expect(await history(server.url, server.adminToken, 'forms')).toEqual([]);
    const pending = await server.server.context.store.listScheduled(
      { user: 'admin', topics: ['forms'] },
      100,
    );
    expect(pending).toHaveLength(forms.length + 3);
  });

  it('enforces ntfy’s bounds (10 s to 3 days) and refuses what it cannot read', async () => {
    const server = await startTestServer(); // default bounds
    servers.push(server);
    const auth = ['-H', `Authorization: Bearer ${server.adminToken}`];
    const cases: [string, number][] = [
      ['In: 5s', 400],
      ['In: 15s', 200],
      ['In: 3d', 200],
      ['In: 73h', 400],
      ['Delay: 1000000000', 400], // a unix time in the past
      ['At: whenever you like', 400],
    ];
    for (const [header, status] of cases) {
      const result = await curl([...auth, '-H', header, '-d', 'x', `${server.url}/bounds`]);
      expect(result.status, header).toBe(status);
      if (status === 400) expect(result.json<Problem>().code).toBe('bad-request');
    }
    const noCache = await curl([
      ...auth,
      '-H',
      'In: 1h',
      '-H',
      'Cache: no',
      '-d',
      'x',
      `${server.url}/bounds`,
    ]);
    expect(noCache.status).toBe(400);
  });

  it('survives a restart: what fell due while the server was down goes out once when it is back', async () => {
    const server = await fastServer();
    const result = await curl([
      '-u',
      `:${server.adminToken}`,
      '-H',
      'In: 1s',
      '-d',
      'while down',
      `${server.url}/restart`,
    ]);
    expect(result.status).toBe(200);
    await server.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await server.restart();
    const alarms = await waitForHistory(server.url, server.adminToken, 'restart', 1);
    expect(alarms.map((a) => a.body)).toEqual(['while down']);
    await server.publish(server.adminToken, { topic: 'restart', title: 'sentinel' });
    expect((await waitForHistory(server.url, server.adminToken, 'restart', 2)).map((a) => a.title)).toEqual([
      'restart',
      'sentinel',
    ]);
  });
});

describe('scheduled delivery across kill -9', () => {
  let proc: ServerProcess | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await proc?.kill('SIGKILL');
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('an acknowledged scheduled alarm is delivered after the process is killed and restarted', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-sched-crash-'));
    proc = await spawnServer(dataDir);
    const admin = proc.adminToken as string;
    const port = Number(new URL(proc.url).port);
    const result = await curl([
      '-u',
      `:${admin}`,
      '-H',
      'In: 10s',
      '-d',
      'after the crash',
      `${proc.url}/crash`,
    ]);
    expect(result.status).toBe(200);
    await proc.kill('SIGKILL');
    proc = await spawnServer(dataDir, [], port);
    const alarms = await waitForHistory(proc.url, admin, 'crash', 1, 40_000);
    expect(alarms.map((a) => a.body)).toEqual(['after the crash']);
  }, 60_000);
});

const skip = redisUnavailable();

describe.skipIf(skip !== null)('scheduled delivery with two instances on one Redis', () => {
  let redis: RedisServer;
  let db = 4;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it('fans each scheduled alarm out once, from exactly one instance, to subscribers on both', async () => {
    const redisUrl = redis.url(++db);
    const a = await fastServer({ redisUrl });
    const b = await fastServer({ redisUrl });
    const onA = await RawStream.open(a.url, { token: a.adminToken, topics: ['sched'] });
    const onB = await RawStream.open(b.url, { token: a.adminToken, topics: ['sched'] });
    streams.push(onA, onB);
    await onA.waitForEvent('ready');
    await onB.waitForEvent('ready');
    const count = 20;
    // In parallel and 5 s ahead, so that none can fall due before the history check below.
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        curl(['-u', `:${a.adminToken}`, '-H', 'In: 5s', '-d', `s${i}`, `${(i % 2 === 0 ? a : b).url}/sched`]),
      ),
    );
    for (const result of results) expect(result.status).toBe(200);
    expect(await history(a.url, a.adminToken, 'sched')).toEqual([]);
    await onA.waitForAlarms(count, 20_000);
    await onB.waitForAlarms(count, 20_000);
    await a.publish(a.adminToken, { topic: 'sched', title: 'sentinel' });
    await onA.waitForAlarms(count + 1, 10_000);
    await onB.waitForAlarms(count + 1, 10_000);
    for (const stream of [onA, onB]) {
      const bodies = stream.alarms().map((x) => x.body ?? x.title);
      expect(new Set(bodies).size).toBe(count + 1);
      expect(bodies).toHaveLength(count + 1);
    }
    expect(await history(b.url, a.adminToken, 'sched')).toHaveLength(count + 1);
  }, 60_000);

  it('another instance delivers what a stopped one scheduled', async () => {
    const redisUrl = redis.url(++db);
    const a = await fastServer({ redisUrl });
    const b = await fastServer({ redisUrl });
    const result = await curl([
      '-u',
      `:${a.adminToken}`,
      '-H',
      'In: 1s',
      '-d',
      'handed over',
      `${a.url}/handover`,
    ]);
    expect(result.status).toBe(200);
    await a.stop();
    const alarms = await waitForHistory(b.url, a.adminToken, 'handover', 1);
    expect(alarms.map((x) => x.body)).toEqual(['handed over']);
  }, 60_000);
});
