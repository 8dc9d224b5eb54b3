/**
 * Measure 2 — fan-out latency. With `size` subscribers ready, alarms are published one at a time;
 * latency = receipt − publish, where "publish" is the instant the publisher worker wrote the POST
 * (so Tocsin's figure includes its durable commit, which happens before fan-out) and "receipt" is the
 * instant a subscriber worker read the chunk holding the alarm's `id:` line. Both are CLOCK_MONOTONIC
 * stamps from different processes on the same machine (clock.ts). One unmeasured warm-up alarm first.
 */

import type { Publisher } from '../publisher.ts';
import { percentile, sortedCopy } from '../stats.ts';
import type { SubscriberPool } from '../subscribers.ts';

export interface FanoutConfig {
  sizes: number[];
  alarms: number;
  timeoutMs: number;
}

export interface FanoutResult {
  subscribers: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  /** Deliveries that never arrived (must be 0). */
  missing: number;
}

export interface AlarmCursor {
  /** The id of the last alarm every subscriber has (-1: none yet). */
  lastId: number;
}

async function publishAndWait(
  pool: SubscriberPool,
  publisher: Publisher,
  cursor: AlarmCursor,
  timeoutMs: number,
): Promise<{ latencies: number[]; missing: number }> {
  const wait = await pool.watch(cursor.lastId);
  const sent = await publisher.single();
  const seen = await wait(timeoutMs);
  cursor.lastId = sent.id;
  const latencies = seen.times.filter((t) => !Number.isNaN(t)).map((t) => t - sent.sentAt);
  return { latencies, missing: seen.missing };
}

export async function measureFanout(
  pool: SubscriberPool,
  publisher: Publisher,
  cursor: AlarmCursor,
  subscribers: number,
  config: FanoutConfig,
): Promise<FanoutResult> {
  await publishAndWait(pool, publisher, cursor, config.timeoutMs);
  const all: number[] = [];
  let missing = 0;
  for (let i = 0; i < config.alarms; i++) {
    const one = await publishAndWait(pool, publisher, cursor, config.timeoutMs);
    all.push(...one.latencies);
    missing += one.missing;
  }
  const sorted = sortedCopy(all);
  return {
    subscribers,
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    missing,
  };
}
