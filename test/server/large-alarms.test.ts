import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEnv, TocsinProcess } from '../helpers/client-cli.ts';
import { waitFor } from '../helpers/client-wait.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

let server: TestServer | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server?.dispose();
  server = undefined;
});

const KiB = 1024;
const BODY = 'x'.repeat(27 * KiB);

/** Publishes `n` alarms of ~27 KiB on topic `big`: the red team's lock-out recipe (~155 did it). */
async function floodTopic(s: TestServer, n: number): Promise<string[]> {
  const publisher = await s.token({ user: 'svc', scope: 'publish', topics: ['big'] });
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await s.publish(publisher, { topic: 'big', title: `big ${i}`, body: BODY })).id);
  return ids;
}

/** `curl -N` reading a stream until it saw `count` alarm ids (or its time runs out). */
function curlStream(
  url: string,
  token: string,
  count: number,
): Promise<{ ids: string[]; code: number | null }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn('curl', [
      '-sN',
      '--max-time',
      '30',
      '-H',
      `Authorization: Bearer ${token}`,
      url,
    ]);
    let text = '';
    const ids = () => [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1] as string);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (ids().length >= count) child.kill('SIGTERM');
    });
    child.on('exit', (code) => resolve({ ids: ids(), code }));
  });
}

describe('large alarms never lock a topic’s subscribers out', () => {
  const config = {
    maxMessageBytes: 32 * KiB,
    maxBufferedBytes: 256 * KiB,
    slowConsumerGraceMs: 1_000,
  };

  it('replays 200 alarms of 27 KiB to curl, whose first bytes arrive before the replay is done', async () => {
    server = await startTestServer(config);
    const ids = await floodTopic(server, 200);
    const reader = await server.token({ user: 'alice', scope: 'subscribe' });
    const got = await curlStream(`${server.url}/v1/stream?topics=*&since=all`, reader, 200);
    expect(got.ids).toEqual(ids);
    expect(server.logs.filter((l) => l.msg === 'closed a stream that stopped reading')).toEqual([]);
  });

  it('gives a slow but steady reader all of them, and drops one that stops reading', async () => {
    server = await startTestServer(config);
    const ids = await floodTopic(server, 200);
    const token = await server.token({ user: 'alice', scope: 'subscribe' });

    // Reads in sips: paused, then 20 ms of reading every 150 ms — slower than the server can write.
    const slow = await RawStream.open(server.url, { token, topics: ['big'], since: 'all' });
    cleanups.push(() => slow.close());
    const sip = setInterval(() => {
      slow.socket.resume();
      setTimeout(() => slow.socket.pause(), 20);
    }, 150);
    cleanups.push(() => clearInterval(sip));
    slow.socket.pause();

    const stuck = await RawStream.open(server.url, { token, topics: ['big'], since: 'all' });
    cleanups.push(() => stuck.close());
    stuck.socket.pause();

    await slow.waitFor((s) => s.alarmIds().length >= 200, 60_000, 'all 200 alarms at the slow reader');
    expect(slow.alarmIds()).toEqual(ids);
    // Live alarms keep coming: the slow reader keeps taking them; the reader that took nothing
    // has them queued against it with no progress, and is dropped after the grace period.
    const more = await floodTopic(server, 20);
    await slow.waitFor((s) => s.alarmIds().length >= 220, 60_000, 'the 20 live alarms at the slow reader');
    expect(slow.alarmIds()).toEqual([...ids, ...more]);
    expect(slow.ended).toBe(false);
    // (A paused client socket does not notice the reset: the server's word is what counts.)
    const dropped = () => server?.logs.filter((l) => l.msg === 'closed a stream that stopped reading') ?? [];
    await waitFor('the stuck reader to be dropped', () => (dropped().length > 0 ? true : undefined), 20_000);
    expect(dropped()).toHaveLength(1);
    expect(server.server.context.registry.size).toBe(1);
  }, 90_000);

  it('delivers a live alarm larger than the buffer cap to every reading subscriber', async () => {
    server = await startTestServer({ maxMessageBytes: 512 * KiB, maxBufferedBytes: 16 * KiB });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const subscribers = await Promise.all(
      [1, 2, 3].map(() => RawStream.open(server?.url as string, { token, topics: ['big'] })),
    );
    for (const s of subscribers) cleanups.push(() => s.close());
    await Promise.all(subscribers.map((s) => s.waitForEvent('ready')));
    const huge = await server.publish(server.adminToken, {
      topic: 'big',
      title: 'huge',
      body: 'y'.repeat(400 * KiB),
    });
    const after = await server.publish(server.adminToken, { topic: 'big', title: 'after' });
    for (const s of subscribers) {
      await s.waitForAlarms(2, 20_000);
      expect(s.alarmIds()).toEqual([huge.id, after.id]);
      expect(s.ended).toBe(false);
    }
  });

  it('the real agent (tocsin listen) gets every large alarm on its first run', async () => {
    server = await startTestServer(config);
    const ids = await floodTopic(server, 160);
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const home = await mkdtemp(join(tmpdir(), 'tocsin-agent-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const agent = new TocsinProcess(
      ['listen', server.url, '--topics', '*', '--json'],
      cliEnv({ HOME: home, TOCSIN_AGENT_STATE_DIR: join(home, 'state'), TOCSIN_TOKEN: token }),
    );
    cleanups.push(async () => {
      await agent.interrupt();
    });
    const lines = await agent.waitForLines(160);
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(ids);
  }, 60_000);
});
