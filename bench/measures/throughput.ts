/**
 * Measure 3 — publish throughput: `concurrency` keep-alive connections each POST an alarm, wait for
 * the 201, and POST the next, for `durationMs` after a warm-up; acked/s counts only 201s sent and
 * answered inside the window. No subscribers are connected: this is the cost of accepting an alarm
 * (for Tocsin: validate, rate-limit, commit to SQLite with synchronous=FULL / to Redis, then ack).
 */
import type { Publisher } from '../publisher.ts';

export interface ThroughputConfig {
  concurrency: number[];
  durationMs: number;
  warmupMs: number;
}

export interface ThroughputPoint {
  concurrency: number;
  ackedPerSec: number;
  failed: number;
  p50: number;
  p99: number;
}

export async function measureThroughput(
  publisher: Publisher,
  config: ThroughputConfig,
): Promise<ThroughputPoint[]> {
  const points: ThroughputPoint[] = [];
  for (const concurrency of config.concurrency) {
    const r = await publisher.throughput(concurrency, config.durationMs, config.warmupMs);
    points.push({
      concurrency,
      ackedPerSec: r.acked / (r.ms / 1000),
      failed: r.failed,
      p50: r.p50,
      p99: r.p99,
    });
  }
  return points;
}
