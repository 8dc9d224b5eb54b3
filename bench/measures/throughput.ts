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
  /**
   * CPU the server spent per acknowledged alarm over the window, in µs, all its threads (and its
   * Redis, for Tocsin (Redis)): steadier than acks/s on a machine whose speed drifts, and the cost
   * that decides throughput once the server is the bottleneck.
   */
  cpuUsPerAck: number;
  /** Of cpuUsPerAck, what the server's private Redis spent (0 without one). */
  storeCpuUsPerAck: number;
  failed: number;
  p50: number;
  p99: number;
}

/** One concurrency level: a warm-up, then the measured window. */
export async function measureThroughput(
  publisher: Publisher,
  concurrency: number,
  window: Pick<ThroughputConfig, 'durationMs' | 'warmupMs'>,
  cpu: { total(): number; store(): number },
): Promise<ThroughputPoint> {
  // The warm-up runs apart, so that the CPU read covers the measured window alone.
  if (window.warmupMs > 0) await publisher.throughput(concurrency, window.warmupMs, 0);
  const before = { total: cpu.total(), store: cpu.store() };
  const r = await publisher.throughput(concurrency, window.durationMs, 0);
  const cpuNs = cpu.total() - before.total;
  const storeNs = cpu.store() - before.store;
  return {
    concurrency,
    ackedPerSec: r.acked / (r.ms / 1000),
    cpuUsPerAck: r.acked === 0 ? Number.NaN : cpuNs / 1000 / r.acked,
    storeCpuUsPerAck: r.acked === 0 ? Number.NaN : storeNs / 1000 / r.acked,
    failed: r.failed,
    p50: r.p50,
    p99: r.p99,
  };
}
