import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/open.ts';
import type { AlarmStore, NewAlarm, TokenStore } from '../../server/store/store.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';

const skip = redisUnavailable();
if (skip !== null) console.warn(`Redis per-topic memory tests skipped: ${skip}`);

const COUNT = 1_000;
const alarm = (topic: string, n: number): NewAlarm => ({
  topic,
  title: `alarm ${n}`,
  body: 'disk almost full on db-1',
  priority: 3,
  tags: [],
});

describe.skipIf(skip !== null)('Redis: per-topic structures are bounded', () => {
  let redis: RedisServer;
  let admin: Redis;
  const stores: (AlarmStore & TokenStore)[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url());
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    admin?.disconnect();
    await redis?.dispose();
  });

  const open = (db: number, maxCount = 100_000) => {
    const store = openStore({
      dataDir: '/nonexistent',
      redisUrl: redis.url(db),
      retention: { maxAgeMs: 7 * 86_400_000, maxCount },
    });
    stores.push(store);
    return store;
  };
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  const appendAll = async (store: AlarmStore, topicOf: (i: number) => string) => {
    for (let i = 0; i < COUNT; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => store.append(alarm(topicOf(i + j), i + j))));
    }
  };

  it('a new topic per alarm costs a few times one shared topic, not 54 times (INFO memory)', async () => {
    const store = open(1);
    await store.append(alarm('warmup', 0));
    const start = await usedMemory();
    await appendAll(store, () => 'same');
    const afterSame = await usedMemory();
    await appendAll(store, (i) => `topic-${i}`);
    const afterNew = await usedMemory();
    const perSame = (afterSame - start) / COUNT;
    const perNew = (afterNew - afterSame) / COUNT;
    console.info(
      `Redis bytes per alarm: one topic ${perSame.toFixed(0)}, a new topic each ${perNew.toFixed(0)} (×${(perNew / perSame).toFixed(1)})`,
    );
    expect(perNew).toBeLessThan(perSame * 4);
  }, 60_000);

  it('reads a topic in order while it grows past the compact form, and retention removes its entries', async () => {
    const store = open(2, 150);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push((await store.append(alarm(i % 2 === 0 ? 'grows' : `once-${i}`, i))).id);
    }
    const grows = ids.filter((_, i) => i % 2 === 0);
    const who = { user: 'nobody', topics: ['grows'] };
    const paged: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.read(after, who, 7);
      if (page.length === 0) break;
      paged.push(...page.map((a) => a.id));
      after = page.at(-1)?.id ?? null;
    }
    expect(paged).toEqual(grows);
    expect((await store.read(grows[50] as string, who, 1_000)).map((a) => a.id)).toEqual(grows.slice(51));
    const once = { user: 'nobody', topics: ['once-1', 'once-199'] };
    expect((await store.read(null, once, 10)).map((a) => a.title)).toEqual(['alarm 1', 'alarm 199']);

    expect(await store.prune(Date.now())).toBe(50);
    // The first 50 alarms are gone from the log and from every index; emptied topic indexes are deleted.
    expect((await store.read(null, who, 1_000)).map((a) => a.id)).toEqual(grows.slice(25));
    expect(await store.read(null, { user: 'nobody', topics: ['once-1'] }, 10)).toEqual([]);
    const db2 = new Redis(redis.url(2));
    try {
      const onceKeys = await db2.keys('tocsin:alarms:topic:once-*');
      expect(onceKeys).toHaveLength(75);
    } finally {
      db2.disconnect();
    }
  }, 60_000);

  it('turns an index into a stream in the middle of one batch and keeps every entry', async () => {
    const store = open(4);
    // One event-loop turn: one script call, which learns each index's type once and must notice the
    // conversion it makes itself after the 64th entry.
    const appended = await Promise.all(
      Array.from({ length: 150 }, (_, i) => store.append(alarm(i % 3 === 0 ? `side-${i}` : 'batch', i))),
    );
    const batch = appended.filter((_, i) => i % 3 !== 0).map((a) => a.id);
    const db4 = new Redis(redis.url(4));
    try {
      expect(await db4.type('tocsin:alarms:topic:batch')).toBe('stream');
      expect(await db4.xlen('tocsin:alarms:topic:batch')).toBe(batch.length);
      expect(await db4.type('tocsin:alarms:topic:side-3')).toBe('zset');
    } finally {
      db4.disconnect();
    }
    const read = await store.read(null, { user: 'nobody', topics: ['batch'] }, 1_000);
    expect(read.map((a) => a.id)).toEqual(batch);
  }, 60_000);

  it('keeps reading and pruning data written by the previous layout (stream indexes, a registry set)', async () => {
    const old = new Redis(redis.url(3));
    const json = (fields: Record<string, unknown>) =>
      JSON.stringify({ title: 'old', priority: 3, tags: [], ...fields });
    try {
      await old.xadd('tocsin:alarms', '1000-1', 'a', json({ topic: 'legacy' }));
      await old.xadd('tocsin:alarms:topic:legacy', '1000-1', 'i', '');
      await old.xadd('tocsin:alarms:all-topics', '1000-1', 'i', '');
      await old.xadd('tocsin:alarms', '1000-2', 'a', json({ user: 'ulla' }));
      await old.xadd('tocsin:alarms:user:ulla', '1000-2', 'i', '');
      await old.sadd(
        'tocsin:alarm-indexes',
        'tocsin:alarms:topic:legacy',
        'tocsin:alarms:all-topics',
        'tocsin:alarms:user:ulla',
      );
      const store = open(3);
      const legacy = { user: 'ulla', topics: ['legacy'] };
      expect((await store.read(null, legacy, 10)).map((a) => a.id)).toEqual(['1000-1', '1000-2']);
      const fresh = await store.append(alarm('legacy', 1));
      expect(await old.type('tocsin:alarms:topic:legacy')).toBe('stream');
      expect((await store.read('1000-2', legacy, 10)).map((a) => a.id)).toEqual([fresh.id]);

      // Both old alarms are older than the retention age.
      expect(await store.prune(Date.now())).toBe(2);
      expect((await store.read(null, legacy, 10)).map((a) => a.id)).toEqual([fresh.id]);
      expect(await old.exists('tocsin:alarms:user:ulla')).toBe(0);
      expect(await old.sismember('tocsin:alarm-indexes', 'tocsin:alarms:user:ulla')).toBe(0);
      expect(await old.xlen('tocsin:alarms:topic:legacy')).toBe(1);
    } finally {
      old.disconnect();
    }
  }, 30_000);
});
