/**
 * The load worker that publishes: single stamped alarms (fan-out latency), exact bursts (the storm's
 * missed alarms), and open-ended throughput with N connections each waiting for its ack.
 */
import { monoMs } from '../clock.ts';
import { percentile, sortedCopy } from '../stats.ts';
import { idToNumber } from './alarm-id.ts';
import { KeepAliveClient, postJson } from './http-client.ts';
import { exitWithParent } from './orphan-guard.ts';
import type {
  BurstResult,
  PublisherRequest,
  PublisherSetup,
  SingleResult,
  ThroughputResult,
} from './protocol.ts';

const setup = JSON.parse(process.argv[2] ?? '{}') as PublisherSetup;
const request = postJson(setup.host, setup.port, '/v1/alarms', setup.token, setup.body);
const clients: KeepAliveClient[] = [];

function client(i: number): KeepAliveClient {
  let c = clients[i];
  if (c === undefined) {
    c = new KeepAliveClient(setup.host, setup.port, setup.localAddress);
    clients[i] = c;
  }
  return c;
}

/** The id from a 201 answer (`{"id":"42",...}`); NaN when the answer is anything else. */
function ackedId(status: number, body: string): number {
  if (status !== 201) return Number.NaN;
  const id = (JSON.parse(body) as { id?: unknown }).id;
  return typeof id === 'string' ? idToNumber(id) : typeof id === 'number' ? id : Number.NaN;
}

async function single(): Promise<SingleResult> {
  const sentAt = monoMs();
  const response = await client(0).request(request);
  const ackedAt = monoMs();
  const id = ackedId(response.status, response.body);
  if (Number.isNaN(id))
    throw new Error(`publish answered ${response.status}: ${response.body.slice(0, 200)}`);
  return { id, sentAt, ackedAt };
}

/** One publish's outcome: its id, or why there is none. */
type Outcome = { id: number } | { failure: string };

function outcomeOf(response: { status: number; body: string }): Outcome {
  const id = ackedId(response.status, response.body);
  return Number.isNaN(id) ? { failure: `status ${response.status}` } : { id };
}

function failureOf(error: unknown): Outcome {
  return { failure: `error ${(error as { code?: string }).code ?? (error as Error).message}` };
}

function summarise(outcomes: Outcome[], start: number): BurstResult {
  const ids: number[] = [];
  const failures: Record<string, number> = {};
  for (const outcome of outcomes) {
    if ('id' in outcome) ids.push(outcome.id);
    else failures[outcome.failure] = (failures[outcome.failure] ?? 0) + 1;
  }
  ids.sort((a, b) => a - b);
  return { ids, failed: outcomes.length - ids.length, failures, ms: monoMs() - start };
}

async function burst(count: number, concurrency: number): Promise<BurstResult> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const start = monoMs();
  const lane = async (i: number) => {
    while (next < count) {
      next++;
      outcomes.push(await client(i).request(request).then(outcomeOf, failureOf));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, i) => lane(i)));
  return summarise(outcomes, start);
}

const TRICKLE_LANE = 1_000;

async function trickle(count: number, gapMs: number, deadlineMs: number): Promise<BurstResult> {
  const start = monoMs();
  const deadline = new Promise<Outcome>((resolve) =>
    setTimeout(() => resolve({ failure: 'no answer by the deadline' }), deadlineMs),
  );
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      Promise.race([
        deadline,
        new Promise<Outcome>((resolve) => {
          setTimeout(() => {
            // Lanes of their own, opened beforehand (prepare-trickle), never one still busy.
            client(TRICKLE_LANE + i)
              .request(request)
              .then(outcomeOf, failureOf)
              .then(resolve);
          }, i * gapMs);
        }),
      ]),
    ),
  );
  return summarise(outcomes, start);
}

async function throughput(
  concurrency: number,
  durationMs: number,
  warmupMs: number,
): Promise<ThroughputResult> {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let acked = 0;
  let failed = 0;
  const begin = monoMs();
  const measureFrom = begin + warmupMs;
  const stopAt = measureFrom + durationMs;
  const lane = async (i: number) => {
    for (;;) {
      const sent = monoMs();
      if (sent >= stopAt) return;
      const response = await client(i)
        .request(request)
        .catch(() => ({ status: 0, body: '' }));
      const done = monoMs();
      // Count only requests sent and answered inside the window.
      if (sent < measureFrom || done > stopAt) continue;
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === 201) {
        acked++;
        latencies.push(done - sent);
      } else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => lane(i)));
  const sorted = sortedCopy(latencies);
  return {
    acked,
    failed,
    statuses,
    ms: durationMs,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

async function handle(req: PublisherRequest): Promise<unknown> {
  switch (req.op) {
    case 'clock':
      return monoMs();
    case 'single':
      return single();
    case 'burst':
      return burst(req.count, req.concurrency);
    case 'trickle':
      return trickle(req.count, req.gapMs, req.deadlineMs);
    case 'prepare-trickle':
      await Promise.all(Array.from({ length: req.count }, (_, i) => client(TRICKLE_LANE + i).connect()));
      return req.count;
    case 'throughput':
      return throughput(req.concurrency, req.durationMs, req.warmupMs);
  }
}

exitWithParent();
process.on('message', (message: { seq: number; request: PublisherRequest }) => {
  handle(message.request).then(
    (value) => process.send?.({ seq: message.seq, ok: true, value }),
    (error: unknown) => process.send?.({ seq: message.seq, ok: false, error: String(error) }),
  );
});
process.send?.({ seq: 0, ok: true, value: 'up' });
