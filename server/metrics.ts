import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DisconnectReason } from './session.ts';

/** Prometheus metrics of one server instance (its own registry: several instances may share a process). */
export class Metrics {
  readonly registry = new Registry();
  readonly openStreams = new Gauge({
    name: 'tocsin_open_streams',
    help: 'Event streams currently open',
    registers: [this.registry],
  });
  readonly alarmsPublished = new Counter({
    name: 'tocsin_alarms_published_total',
    help: 'Alarms stored and acknowledged, by publish dialect',
    labelNames: ['dialect'] as const,
    registers: [this.registry],
  });
  /** The two series of alarmsPublished, bound once: a labelled inc() hashes its labels every time. */
  readonly published = {
    json: this.alarmsPublished.labels('json'),
    ntfy: this.alarmsPublished.labels('ntfy'),
  };
  readonly framesWritten = new Counter({
    name: 'tocsin_sse_frames_written_total',
    help: 'SSE frames written to streams (alarms, heartbeats, control events)',
    registers: [this.registry],
  });
  readonly disconnects = new Counter({
    name: 'tocsin_stream_disconnects_total',
    help: 'Streams closed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly slowConsumerDrops = new Counter({
    name: 'tocsin_slow_consumer_drops_total',
    help: 'Streams closed because the client stopped reading and the buffer cap was reached',
    registers: [this.registry],
  });

  constructor(sources: { bufferedBytes: () => number }) {
    new Gauge({
      name: 'tocsin_stream_buffered_bytes',
      help: 'Bytes written to open streams that their clients have not yet accepted',
      registers: [this.registry],
      collect() {
        this.set(sources.bufferedBytes());
      },
    });
    collectDefaultMetrics({ register: this.registry });
    // Pre-create the labelled series so dashboards see zeros instead of gaps.
    for (const reason of [
      'client-closed',
      'write-error',
      'slow-consumer',
      'shutdown',
      'revoked',
      'replaced',
    ] satisfies DisconnectReason[]) {
      this.disconnects.inc({ reason }, 0);
    }
    for (const dialect of ['json', 'ntfy']) this.alarmsPublished.inc({ dialect }, 0);
  }
}
