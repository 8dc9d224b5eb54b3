/** The bench's handle on its publishing load worker (load/publisher-worker.ts). */
import type {
  BurstResult,
  PublisherRequest,
  PublisherSetup,
  SingleResult,
  ThroughputResult,
} from './load/protocol.ts';
import type { RunningServer } from './targets.ts';
import { WorkerRpc } from './worker-rpc.ts';

const WORKER = new URL('./load/publisher-worker.ts', import.meta.url);

/** The alarm every server receives and fans out: one realistic notification, ~150 bytes of JSON. */
export const BENCH_TOPIC = 'bench';
export const BENCH_ALARM = JSON.stringify({
  topic: BENCH_TOPIC,
  title: 'Backup failed on db-01',
  body: 'pg_dump exited with status 1: disk full on /var/backups',
  priority: 4,
  tags: ['backup', 'bench'],
});

export class Publisher {
  readonly #rpc: WorkerRpc<PublisherRequest>;

  private constructor(rpc: WorkerRpc<PublisherRequest>) {
    this.#rpc = rpc;
  }

  static async start(server: Pick<RunningServer, 'host' | 'port' | 'token'>): Promise<Publisher> {
    const setup: PublisherSetup = {
      host: server.host,
      port: server.port,
      token: server.token,
      localAddress: '127.0.0.200',
      body: BENCH_ALARM,
    };
    return new Publisher(await WorkerRpc.start<PublisherRequest>(WORKER, setup));
  }

  single(): Promise<SingleResult> {
    return this.#rpc.call({ op: 'single' });
  }

  burst(count: number, concurrency: number): Promise<BurstResult> {
    return this.#rpc.call({ op: 'burst', count, concurrency });
  }

  trickle(count: number, gapMs: number, deadlineMs: number): Promise<BurstResult> {
    return this.#rpc.call({ op: 'trickle', count, gapMs, deadlineMs });
  }

  async prepareTrickle(count: number): Promise<void> {
    await this.#rpc.call({ op: 'prepare-trickle', count });
  }

  throughput(concurrency: number, durationMs: number, warmupMs: number): Promise<ThroughputResult> {
    return this.#rpc.call({ op: 'throughput', concurrency, durationMs, warmupMs });
  }

  stop(): void {
    this.#rpc.stop();
  }
}
