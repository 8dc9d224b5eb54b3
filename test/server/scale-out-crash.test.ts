import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = redisUnavailable();

/** A subscriber that follows one instance and, when its stream dies, resumes on another with Last-Event-ID. */
class Follower {
  /** Every alarm id received, over every connection, duplicates included (so the test can see them). */
  readonly received: string[] = [];
  #stream: RawStream;
  #counted = 0;

  private constructor(stream: RawStream) {
    this.#stream = stream;
  }

  static async open(url: string, token: string): Promise<Follower> {
    const stream = await RawStream.open(url, { token, topics: ['burst'] });
    await stream.waitForEvent('ready');
    return new Follower(stream);
  }

  /** Takes in what the current stream delivered so far. */
  collect(): void {
    const ids = this.#stream.alarmIds();
    this.received.push(...ids.slice(this.#counted));
    this.#counted = ids.length;
  }

  get ended(): boolean {
    return this.#stream.ended;
  }

  async waitForEnd(): Promise<void> {
    await this.#stream.waitForEnd(10_000);
    this.collect();
  }

  async resumeOn(url: string, token: string): Promise<void> {
    this.collect();
    const last = this.received.at(-1);
    if (last === undefined) throw new Error('a follower must have a cursor before it can resume');
    this.#stream = await RawStream.open(url, { token, lastEventId: last, topics: ['burst'] });
    this.#counted = 0;
    expect(this.#stream.status).toBe(200);
  }

  async waitFor(ids: Set<string>): Promise<void> {
    await this.#stream.waitFor(
      (s) => {
        const seen = new Set([...this.received, ...s.alarmIds()]);
        for (const id of ids) if (!seen.has(id)) return false;
        return true;
      },
      20_000,
      `${ids.size} acknowledged alarms`,
    );
    this.collect();
  }

  close(): void {
    this.#stream.close();
  }
}

describe.skipIf(skip !== null)('an instance killed with SIGKILL during a publish burst', () => {
  let redis: RedisServer;
  let b: TestServer | undefined;
  let a: ServerProcess | undefined;
  let dataDir: string | undefined;
  const followers: Follower[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const f of followers) f.close();
    await a?.kill('SIGKILL');
    await b?.dispose();
    await redis?.dispose();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('its clients resume on the other instance and every acknowledged alarm reaches every subscriber exactly once', async () => {
    const rate = { max: 1_000_000, windowMs: 60_000 };
    b = await startTestServer({ redisUrl: redis.url(), publishRateLimit: rate, logLevel: 'warn' });
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-scale-'));
    a = await spawnServer(dataDir, ['--redis-url', redis.url(), '--publish-rate', '1000000/60000']);
    const admin = b.adminToken; // minted in Redis through B, valid on A
    const token = await b.token({ user: 'sub', scope: 'subscribe', topics: ['burst'] });

    const onA = await Promise.all(Array.from({ length: 4 }, () => Follower.open(a?.url as string, token)));
    const onB = await Promise.all(Array.from({ length: 2 }, () => Follower.open(b?.url as string, token)));
    followers.push(...onA, ...onB);
    // Everyone holds a cursor before the burst (the warm-up alarm), as a long-running client would.
    const acked = new Set<string>([(await b.publish(admin, { topic: 'burst', title: 'warm-up' })).id]);
    await Promise.all(followers.map((f) => f.waitFor(acked)));

    let stop = false;
    const publisher = async (url: string, worker: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const response = await fetch(`${url}/v1/alarms`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify({ topic: 'burst', title: `w${worker}-${i}` }),
          });
          // Only a 201 is an acknowledgement; anything else (or a dead socket) promised nothing.
          if (response.status === 201) acked.add(((await response.json()) as { id: string }).id);
          else await response.arrayBuffer();
        } catch {
          return; // instance gone: this publisher moves nowhere, it just stops
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => publisher(a?.url as string, w));
    while (acked.size < 200) await new Promise((r) => setTimeout(r, 5));
    await a.kill('SIGKILL');
    await Promise.all(workers);

    // A's clients see their streams die and resume on B from their own cursor.
    await Promise.all(onA.map((f) => f.waitForEnd()));
    await Promise.all(onA.map((f) => f.resumeOn(b?.url as string, token)));
    // Publishing goes on through B while they move.
    const more = Array.from({ length: 2 }, (_, w) => publisher(b?.url as string, 100 + w));
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(more);
    // A last alarm through B: once it arrived, any duplicate of an earlier one would have, too.
    acked.add((await b.publish(admin, { topic: 'burst', title: 'sentinel' })).id);

    expect(acked.size).toBeGreaterThan(201);
    await Promise.all(followers.map((f) => f.waitFor(acked)));
    const store = b.server.context.store;
    for (const f of followers) {
      const duplicates = f.received.filter((id, i) => f.received.indexOf(id) !== i);
      expect(duplicates).toEqual([]);
      expect([...acked].filter((id) => !f.received.includes(id))).toEqual([]);
      // In order, too (ids only grow), across the move from A to B.
      expect(f.received).toEqual([...f.received].sort((x, y) => store.compareIds(x, y)));
    }
    // Every follower saw the same sequence (alarms stored but never acknowledged included).
    for (const f of followers) expect(f.received).toEqual(onB[0]?.received);
  }, 60_000);
});
