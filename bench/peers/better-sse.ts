/**
 * Peer: the published `better-sse` package used the way its docs show — a Session per request
 * (`createSession`), a Channel per topic, `channel.broadcast(data, 'alarm', { eventId })` for the
 * fan-out, the Session's own keep-alive comments as heartbeat, and `session.batch` for the replay.
 *
 *   BENCH_TOKEN=secret node bench/peers/better-sse.ts --port 0 --heartbeat-ms 15000
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Channel, createChannel, createSession, type Session } from 'better-sse';
import { AlarmLog, type PeerAlarm } from './alarm-log.ts';
import { peerOptions } from './peer-options.ts';
import { runPeer, type SseTransport, type StreamRequest } from './peer-server.ts';

class BetterSseTransport implements SseTransport {
  readonly #channels = new Map<string, Channel>();
  /** Each session's response, to end the streams on shutdown (a Session has no close method). */
  readonly #sessions = new Map<Session, ServerResponse>();
  readonly #log: AlarmLog;
  readonly #retryMs: number;
  readonly #heartbeatMs: number;

  constructor(log: AlarmLog, retryMs: number, heartbeatMs: number) {
    this.#log = log;
    this.#retryMs = retryMs;
    this.#heartbeatMs = heartbeatMs;
  }

  get streams(): number {
    return this.#sessions.size;
  }

  #channel(topic: string): Channel {
    let channel = this.#channels.get(topic);
    if (channel === undefined) {
      channel = createChannel();
      this.#channels.set(topic, channel);
    }
    return channel;
  }

  open(req: IncomingMessage, res: ServerResponse, stream: StreamRequest): void {
    res.on('error', () => {});
    createSession(req, res, {
      retry: this.#retryMs,
      keepAlive: this.#heartbeatMs,
      headers: { 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' },
    })
      .then((session) => {
        res.socket?.setNoDelay(true);
        // Replay, `ready` and channel registration in one synchronous step: no alarm can fall between.
        const missed = this.#log.after(stream.lastEventId, stream.topics);
        const ready = {
          heartbeatMs: this.#heartbeatMs,
          cursor: missed.at(-1)?.id ?? stream.lastEventId ?? null,
        };
        void session.batch((buffer) => {
          for (const alarm of missed) buffer.push(alarm, 'alarm', alarm.id);
          // No id on `ready`: push() would invent a random UUID one.
          buffer.event('ready').data(ready).dispatch();
        });
        this.#sessions.set(session, res);
        for (const topic of stream.topics) this.#channel(topic).register(session);
        session.once('disconnected', () => this.#sessions.delete(session));
      })
      .catch(() => res.destroy());
  }

  broadcast(alarm: PeerAlarm): void {
    this.#channels.get(alarm.topic)?.broadcast(alarm, 'alarm', { eventId: alarm.id });
  }

  closeAll(): void {
    for (const res of this.#sessions.values()) res.end();
  }
}

const options = peerOptions(process.argv.slice(2), process.env);
const log = new AlarmLog();
runPeer(options, log, new BetterSseTransport(log, options.retryMs, options.heartbeatMs));
