/**
 * Peer: the practical upper bound for Node — a bare `node:http` SSE write loop. One Set of responses
 * per topic, each alarm encoded once to a Buffer and written to every subscriber, one heartbeat timer
 * for all streams. Guards only what keeps the process alive (an 'error' listener per response), and
 * none of Tocsin's bookkeeping: no slow-consumer policy, no per-stream cursor, no metrics.
 *
 *   BENCH_TOKEN=secret node bench/peers/plain-http.ts --port 0 --heartbeat-ms 15000
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlarmLog, type PeerAlarm } from './alarm-log.ts';
import { peerOptions } from './peer-options.ts';
import { runPeer, type SseTransport, type StreamRequest } from './peer-server.ts';

const HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};
const HEARTBEAT = Buffer.from(': hb\n\n');

/** Each alarm is encoded once, when it is first sent, and the bytes reused for every replay. */
const frames = new WeakMap<PeerAlarm, Buffer>();
function frameOf(alarm: PeerAlarm): Buffer {
  let frame = frames.get(alarm);
  if (frame === undefined) {
    frame = Buffer.from(`event: alarm\nid: ${alarm.id}\ndata: ${JSON.stringify(alarm)}\n\n`);
    frames.set(alarm, frame);
  }
  return frame;
}

class PlainTransport implements SseTransport {
  readonly #byTopic = new Map<string, Set<ServerResponse>>();
  readonly #all = new Set<ServerResponse>();
  readonly #log: AlarmLog;
  readonly #retryMs: number;
  readonly #heartbeatMs: number;

  constructor(log: AlarmLog, retryMs: number, heartbeatMs: number) {
    this.#log = log;
    this.#retryMs = retryMs;
    this.#heartbeatMs = heartbeatMs;
    setInterval(() => {
      for (const res of this.#all) res.write(HEARTBEAT);
    }, heartbeatMs);
  }

  get streams(): number {
    return this.#all.size;
  }

  open(_req: IncomingMessage, res: ServerResponse, stream: StreamRequest): void {
    res.writeHead(200, HEADERS);
    res.socket?.setNoDelay(true);
    res.on('error', () => {});
    const missed = this.#log.after(stream.lastEventId, stream.topics);
    const ready = { heartbeatMs: this.#heartbeatMs, cursor: missed.at(-1)?.id ?? stream.lastEventId ?? null };
    // Replay and `ready` in one write: the replay comes from memory, already encoded.
    res.write(
      Buffer.concat([
        Buffer.from(`retry: ${this.#retryMs}\n\n`),
        ...missed.map(frameOf),
        Buffer.from(`event: ready\ndata: ${JSON.stringify(ready)}\n\n`),
      ]),
    );
    this.#all.add(res);
    for (const topic of stream.topics) {
      let set = this.#byTopic.get(topic);
      if (set === undefined) {
        set = new Set();
        this.#byTopic.set(topic, set);
      }
      set.add(res);
    }
    res.on('close', () => {
      this.#all.delete(res);
      for (const topic of stream.topics) this.#byTopic.get(topic)?.delete(res);
    });
  }

  broadcast(alarm: PeerAlarm): void {
    const recipients = this.#byTopic.get(alarm.topic);
    if (recipients === undefined) return;
    const frame = frameOf(alarm);
    for (const res of recipients) res.write(frame);
  }

  closeAll(): void {
    for (const res of this.#all) res.end(`retry: 250\n\n`);
  }
}

const options = peerOptions(process.argv.slice(2), process.env);
const log = new AlarmLog();
runPeer(options, log, new PlainTransport(log, options.retryMs, options.heartbeatMs));
