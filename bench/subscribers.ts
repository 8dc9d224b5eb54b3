/**
 * The bench's handle on its subscriber load: several forked workers (one per ~12k streams, at least
 * two so that client-side parsing never rests on one core), each spreading its streams over its own
 * 127.0.x.y source addresses so no (source, destination) pair runs out of ephemeral ports (~28k).
 */
import { monoMs } from './clock.ts';
import type {
  ConnectResult,
  Endpoint,
  SubscriberRequest,
  SubscriberStats,
  VerifyResult,
  WatchResult,
} from './load/protocol.ts';
import type { SubscriberSetup } from './load/subscriber-worker.ts';
import { WorkerRpc } from './worker-rpc.ts';

const WORKER = new URL('./load/subscriber-worker.ts', import.meta.url);
const ADDRESSES_PER_WORKER = 8;

/** Splits `total` into `parts` near-equal shares. */
function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

function sumRecords(records: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export class SubscriberPool {
  readonly #workers: WorkerRpc<SubscriberRequest>[];

  private constructor(workers: WorkerRpc<SubscriberRequest>[]) {
    this.#workers = workers;
  }

  static async start(endpoint: Endpoint, workers: number): Promise<SubscriberPool> {
    const started = await Promise.all(
      Array.from({ length: workers }, (_, w) => {
        const localAddresses = Array.from(
          { length: ADDRESSES_PER_WORKER },
          (_, k) => `127.0.${1 + w}.${1 + k}`,
        );
        const setup: SubscriberSetup = { endpoint, localAddresses };
        return WorkerRpc.start<SubscriberRequest>(WORKER, setup);
      }),
    );
    const pool = new SubscriberPool(started);
    await pool.#checkSharedClock();
    return pool;
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.pid ?? -1);
  }

  /** The latency method rests on one monotonic clock across processes: verify parent ≤ worker ≤ parent. */
  async #checkSharedClock(): Promise<void> {
    for (const worker of this.#workers) {
      const before = monoMs();
      const theirs = await worker.call<number>({ op: 'clock' });
      const after = monoMs();
      if (!(before <= theirs && theirs <= after)) {
        throw new Error(`clocks disagree: ${before} ≤ ${theirs} ≤ ${after} does not hold`);
      }
    }
  }

  #all<T>(request: SubscriberRequest): Promise<T[]> {
    return Promise.all(this.#workers.map((w) => w.call<T>(request)));
  }

  async connect(total: number, maxInFlightPerWorker = 256, timeoutMs = 60_000): Promise<ConnectResult> {
    const results = await Promise.all(
      shares(total, this.#workers.length).map((count, i) =>
        (this.#workers[i] as WorkerRpc<SubscriberRequest>).call<ConnectResult>({
          op: 'connect',
          count,
          maxInFlight: maxInFlightPerWorker,
          timeoutMs,
        }),
      ),
    );
    return {
      ready: results.reduce((n, r) => n + r.ready, 0),
      failed: results.reduce((n, r) => n + r.failed, 0),
      failures: sumRecords(results.map((r) => r.failures)),
    };
  }

  /** Tops the pool up (or trims it) to exactly `target` open streams. */
  async resize(target: number): Promise<ConnectResult> {
    const open = (await this.stats()).open;
    if (target > open) return this.connect(target - open);
    if (target < open) {
      await Promise.all(
        shares(open - target, this.#workers.length).map((count, i) =>
          (this.#workers[i] as WorkerRpc<SubscriberRequest>).call({ op: 'close', count }),
        ),
      );
    }
    return { ready: 0, failed: 0, failures: {} };
  }

  async drop(): Promise<number> {
    return (await this.#all<number>({ op: 'drop' })).reduce((a, b) => a + b, 0);
  }

  /**
   * Reopens all dropped streams from their cursors, each after the agent's backoff over the server's
   * `retry:` (`retryMs`), or all at once (`timing: 'instant'`, `maxInFlightPerWorker` 0 = no pacing).
   */
  async reconnect(
    autoReconnect: boolean,
    retryMs: number,
    timing: 'agent' | 'instant' = 'agent',
    maxInFlightPerWorker = 0,
  ): Promise<number> {
    const counts = await this.#all<number>({
      op: 'reconnect',
      autoReconnect,
      retryMs,
      maxInFlight: maxInFlightPerWorker,
      timing,
    });
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Registers a watch for "cursor passes afterId" (and, with needReady, "is live") in every worker;
   * returns a function that awaits it.
   */
  async watch(afterId: number, needReady = false): Promise<(timeoutMs: number) => Promise<WatchResult>> {
    const handles = await this.#all<number>({ op: 'watch', afterId, needReady });
    return async (timeoutMs) => {
      const results = await Promise.all(
        this.#workers.map((w, i) =>
          w.call<WatchResult>({ op: 'await', watch: handles[i] as number, timeoutMs }),
        ),
      );
      return {
        times: results.flatMap((r) => r.times),
        missing: results.reduce((n, r) => n + r.missing, 0),
      };
    };
  }

  async startLog(): Promise<void> {
    await this.#all({ op: 'log' });
  }

  async verify(expected: number[]): Promise<VerifyResult> {
    const results = await this.#all<VerifyResult>({ op: 'verify', expected });
    return {
      streams: results.reduce((n, r) => n + r.streams, 0),
      incomplete: results.reduce((n, r) => n + r.incomplete, 0),
      delivered: results.reduce((n, r) => n + r.delivered, 0),
      lost: results.reduce((n, r) => n + r.lost, 0),
      duplicates: results.reduce((n, r) => n + r.duplicates, 0),
      unexpected: results.reduce((n, r) => n + r.unexpected, 0),
      outOfOrder: results.reduce((n, r) => n + r.outOfOrder, 0),
    };
  }

  async stats(): Promise<SubscriberStats> {
    const results = await this.#all<SubscriberStats>({ op: 'stats' });
    return {
      open: results.reduce((n, r) => n + r.open, 0),
      ready: results.reduce((n, r) => n + r.ready, 0),
      heartbeats: results.reduce((n, r) => n + r.heartbeats, 0),
      bytes: results.reduce((n, r) => n + r.bytes, 0),
      serverCloses: results.reduce((n, r) => n + r.serverCloses, 0),
      reconnects: results.reduce((n, r) => n + r.reconnects, 0),
      gaps: results.reduce((n, r) => n + r.gaps, 0),
      failures: sumRecords(results.map((r) => r.failures)),
    };
  }

  stop(): void {
    for (const w of this.#workers) w.stop();
  }
}
