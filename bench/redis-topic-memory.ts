// Measures the Redis store's memory per alarm (one shared topic vs a new topic per alarm) and how long
// one retention step blocks Redis (SLOWLOG of the prune script), against a private redis-server.
// Usage: node bench/redis-topic-memory.ts [alarms=20000]
import { Redis } from 'ioredis';
import { RedisStore } from '../server/store/redis.ts';
import type { NewAlarm } from '../server/store/store.ts';
import { startRedis } from '../test/helpers/redis.ts';

const count = Number(process.argv[2] ?? 20_000);
const redis = await startRedis();
const admin = new Redis(redis.url());
const used = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
const alarm = (topic: string, n: number): NewAlarm => ({
  topic,
  title: `alarm ${n}`,
  body: 'disk almost full on db-1',
  priority: 3,
  tags: [],
});
try {
  const store = new RedisStore({
    url: redis.url(),
    retention: { maxAgeMs: 7 * 86_400_000, maxCount: 1_000_000 },
  });
  const fill = async (topicOf: (i: number) => string) => {
    for (let i = 0; i < count; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => store.append(alarm(topicOf(i + j), i + j))));
    }
  };
  await store.append(alarm('warmup', 0));
  const m0 = await used();
  await fill(() => 'same');
  const m1 = await used();
  await fill((i) => `topic-${i}`);
  const m2 = await used();
  console.log(`alarms per phase: ${count}`);
  console.log(`bytes per alarm, one topic:        ${((m1 - m0) / count).toFixed(0)}`);
  console.log(`bytes per alarm, a new topic each: ${((m2 - m1) / count).toFixed(0)}`);
  await store.close();

  // Retention down to 1 000 alarms, in steps of 1 000: the slowest step is how long Redis stalls.
  await admin.config('SET', 'slowlog-log-slower-than', '1000');
  await admin.config('SET', 'slowlog-max-len', '100000');
  await admin.slowlog('RESET');
  const pruner = new RedisStore({
    url: redis.url(),
    retention: { maxAgeMs: 7 * 86_400_000, maxCount: 1_000 },
  });
  const removed = await pruner.prune(Date.now());
  const log = (await admin.slowlog('GET', -1)) as [number, number, number, string[]][];
  // The retention script is the call that names the pruned-through key.
  const steps = log.filter(
    (e) =>
      /^eval/i.test(e[3][0] ?? '') && e[3].some((arg) => arg.endsWith('pruned-through')) && e[3].length > 8,
  );
  const micros = steps.map((e) => e[2]).sort((a, b) => a - b);
  const ms = (us: number | undefined) => ((us ?? 0) / 1000).toFixed(1);
  console.log(
    `retention: removed ${removed}; steps over 1 ms: ${micros.length}; slowest ${ms(micros.at(-1))} ms, median ${ms(micros[Math.floor(micros.length / 2)])} ms`,
  );
  await pruner.close();
} finally {
  admin.disconnect();
  await redis.dispose();
}
