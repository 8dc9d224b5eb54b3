/**
 * A load worker holding thousands of SSE streams over raw `node:net` sockets (no EventSource: an
 * HTTP client object per stream would cost more memory and CPU than the server under test). Driven by
 * the bench over IPC (see protocol.ts). Stamps every alarm's arrival with the shared monotonic clock.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { DEFAULT_RECONNECT, reconnectDelay } from '../../client/backoff.ts';
import { CLIENT_ID_HEADER } from '../../protocol/index.ts';
import { monoMs } from '../clock.ts';
import { dashedIdsSeen, numberToId } from './alarm-id.ts';
import { type ChunkState, dechunk, newChunkState } from './dechunk.ts';
import { IdLog, verifyLogs } from './id-log.ts';
import { exitWithParent } from './orphan-guard.ts';
import type {
  ConnectResult,
  Endpoint,
  SubscriberRequest,
  SubscriberStats,
  VerifyResult,
  WatchResult,
} from './protocol.ts';
import { newScanState, type ScanState, scan } from './sse-scanner.ts';

export interface SubscriberSetup {
  endpoint: Endpoint;
  /** Source addresses (127.x.y.z) to spread streams over: each has its own ephemeral port range. */
  localAddresses: string[];
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Every socket of this worker reads into this buffer; nothing may keep a view of it past the callback. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

interface Stream {
  /** Position in `streams` (set once the stream is ready and joins it); indexes watch results. */
  index: number;
  /** Sent as X-Tocsin-Client on every connection of this stream, as the agent does. */
  readonly clientId: string;
  /** The agent's backoff attempt: 0 after a stream was live, +1 per failed connection. */
  attempt: number;
  /** Retry-After of the last refusal, in ms. */
  retryAfterMs: number | undefined;
  socket: Socket | null;
  /** Response head bytes until it is complete; null once in the body. */
  head: Buffer | null;
  /** Chunked-transfer state when the response is chunked (it is, from Node and from nginx). */
  chunks: ChunkState | null;
  scan: ScanState;
  /** Highest alarm id received (the cursor sent as Last-Event-ID on reconnect); -1: none. */
  lastId: number;
  log: IdLog | null;
  closedByUs: boolean;
  /** Settles the pending `connect` for this stream (ready or failed). */
  settle: ((ok: boolean, failure?: string) => void) | null;
}

interface Watch {
  readonly afterId: number;
  /** Passing also needs `event: ready` on the stream's current connection (replay done, live). */
  readonly needReady: boolean;
  readonly times: Float64Array;
  pending: number;
  done: (() => void) | null;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as SubscriberSetup;
const { endpoint } = setup;
const streams: Stream[] = [];
const watches: Watch[] = [];
const failures: Record<string, number> = {};
/** Connections opened so far: rotates the source address. */
let opened = 0;
let autoReconnect = false;
/** The `retry:` the servers announce: the unit of the agent's backoff. */
let serverRetryMs = 3_000;
let logging = false;
let heartbeatsOfClosed = 0;
let bytes = 0;
let serverCloses = 0;
let reconnects = 0;
let gaps = 0;

/** The request the agent (client/stream.ts) sends: its token, cursor and client id. */
function requestBytes(stream: Stream): Buffer {
  const cursor = stream.lastId;
  const lastEventId = cursor >= 0 ? `Last-Event-ID: ${numberToId(cursor, dashedIdsSeen())}\r\n` : '';
  return Buffer.from(
    `GET ${endpoint.path} HTTP/1.1\r\nHost: ${endpoint.host}:${endpoint.port}\r\n` +
      `Authorization: Bearer ${endpoint.token}\r\nAccept: text/event-stream\r\nCache-Control: no-store\r\n` +
      `${CLIENT_ID_HEADER}: ${stream.clientId}\r\n${lastEventId}\r\n`,
  );
}

/** The agent's wait before its next connection (client/backoff.ts, the same function, with jitter). */
function agentDelay(stream: Stream): number {
  return reconnectDelay(
    DEFAULT_RECONNECT,
    { failures: stream.attempt, serverRetryMs, retryAfterMs: stream.retryAfterMs },
    Math.random,
  );
}

function fail(stream: Stream, reason: string): void {
  failures[reason] = (failures[reason] ?? 0) + 1;
  const settle = stream.settle;
  stream.settle = null;
  settle?.(false, reason);
}

function passes(stream: Stream, watch: Watch): boolean {
  return stream.lastId > watch.afterId && (!watch.needReady || stream.scan.ready);
}

function checkWatches(stream: Stream, now: number): void {
  for (const watch of watches) {
    if (
      stream.index < 0 ||
      stream.index >= watch.times.length ||
      !Number.isNaN(watch.times[stream.index] as number)
    )
      continue;
    if (!passes(stream, watch)) continue;
    watch.times[stream.index] = now;
    watch.pending--;
    if (watch.pending === 0) watch.done?.();
  }
}

function onId(stream: Stream, id: number, now: number): void {
  stream.log?.push(id);
  if (id <= stream.lastId) return; // a duplicate or reordering: the log check counts it
  stream.lastId = id;
  checkWatches(stream, now);
}

function onBody(stream: Stream, chunk: Buffer, now: number): void {
  scan(chunk, stream.scan, {
    onId: (id) => onId(stream, id, now),
    onReady: () => {
      stream.attempt = 0;
      stream.retryAfterMs = undefined;
      checkWatches(stream, now);
      const settle = stream.settle;
      stream.settle = null;
      settle?.(true);
    },
    onGap: () => {
      gaps++;
    },
  });
}

const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;

/** Body bytes of a read: de-chunked first when the response is chunked. */
function onBodyBytes(stream: Stream, chunk: Buffer, now: number): void {
  const chunks = stream.chunks;
  if (chunks === null) onBody(stream, chunk, now);
  else dechunk(chunk, chunks, (data) => onBody(stream, data, now));
}

function onData(stream: Stream, chunk: Buffer): void {
  const now = monoMs();
  bytes += chunk.length;
  if (stream.head === null) {
    onBodyBytes(stream, chunk, now);
    return;
  }
  const head = stream.head.length === 0 ? chunk : Buffer.concat([stream.head, chunk]);
  const end = head.indexOf(HEAD_END);
  if (end === -1) {
    stream.head = Buffer.from(head); // a copy: `chunk` is the shared read buffer
    return;
  }
  stream.head = null;
  const status = head.toString('latin1', 9, 12);
  if (status !== '200') {
    const retryAfter = /\r\nretry-after:\s*(\d+)/i.exec(head.toString('latin1', 0, end));
    stream.retryAfterMs = retryAfter === null ? undefined : Number(retryAfter[1]) * 1000;
    fail(stream, `http-${status}`);
    stream.closedByUs = true;
    stream.socket?.resetAndDestroy();
    scheduleRetry(stream);
    return;
  }
  stream.chunks = CHUNKED.test(head.toString('latin1', 0, end)) ? newChunkState() : null;
  if (end + 4 < head.length) onBodyBytes(stream, head.subarray(end + 4), now);
}

function open(stream: Stream): void {
  stream.head = Buffer.alloc(0);
  stream.scan = newScanState();
  stream.closedByUs = false;
  const localAddress = setup.localAddresses[opened++ % setup.localAddresses.length];
  const socket = connect({
    host: endpoint.host,
    port: endpoint.port,
    localAddress,
    // Reads land in one shared buffer and go straight to the scanner, without the stream machinery
    // of 'data' events: with 10k sockets the client's per-read cost is part of every latency measured.
    onread: {
      buffer: READ_BUFFER,
      callback: (length: number, buffer: Uint8Array) => {
        onData(stream, Buffer.from(buffer.buffer, buffer.byteOffset, length));
        return true;
      },
    },
  });
  stream.socket = socket;
  socket.setNoDelay(true);
  socket.write(requestBytes(stream));
  let errored = false;
  socket.on('error', (error: NodeJS.ErrnoException) => {
    errored = true;
    fail(stream, error.code ?? 'socket-error');
  });
  socket.on('close', () => {
    heartbeatsOfClosed += stream.scan.heartbeats;
    stream.scan.heartbeats = 0;
    if (stream.socket === socket) stream.socket = null;
    if (stream.closedByUs) return;
    serverCloses++;
    if (!errored) fail(stream, 'closed-by-server');
    scheduleRetry(stream);
  });
}

/** As the agent does: after a refused or closed stream, reopen it from its cursor after its backoff. */
function scheduleRetry(stream: Stream): void {
  if (!autoReconnect) return;
  const delay = agentDelay(stream);
  stream.attempt++;
  setTimeout(() => {
    if (stream.socket === null && autoReconnect) {
      reconnects++;
      open(stream);
    }
  }, delay);
}

function newStream(): Stream {
  return {
    index: -1,
    clientId: randomUUID(),
    attempt: 0,
    retryAfterMs: undefined,
    socket: null,
    head: null,
    chunks: null,
    scan: newScanState(),
    lastId: -1,
    log: logging ? new IdLog() : null,
    closedByUs: false,
    settle: null,
  };
}

/** Opens `count` fresh streams, at most `maxInFlight` handshakes at a time (a ramp, not a storm). */
function connectMany(count: number, maxInFlight: number, timeoutMs: number): Promise<ConnectResult> {
  const result: ConnectResult = { ready: 0, failed: 0, failures: {} };
  if (count <= 0) return Promise.resolve(result);
  return new Promise((resolve) => {
    let started = 0;
    let settled = 0;
    const pending = new Set<Stream>();
    const timer = setTimeout(() => {
      for (const stream of [...pending]) {
        stream.closedByUs = true;
        stream.socket?.resetAndDestroy();
        fail(stream, 'connect-timeout');
      }
    }, timeoutMs);
    const startOne = () => {
      const stream = newStream();
      started++;
      pending.add(stream);
      stream.settle = (ok, failure) => {
        pending.delete(stream);
        settled++;
        if (ok) {
          result.ready++;
          stream.index = streams.length;
          streams.push(stream);
        } else {
          result.failed++;
          const key = failure ?? 'unknown';
          result.failures[key] = (result.failures[key] ?? 0) + 1;
          stream.closedByUs = true;
          stream.socket?.resetAndDestroy();
        }
        if (started < count) startOne();
        else if (settled === count) {
          clearTimeout(timer);
          resolve(result);
        }
      };
      open(stream);
    };
    for (let i = 0; i < Math.min(count, maxInFlight); i++) startOne();
  });
}

function closeLast(count: number): number {
  let closed = 0;
  while (closed < count && streams.length > 0) {
    const stream = streams.pop() as Stream;
    stream.closedByUs = true;
    stream.socket?.resetAndDestroy();
    closed++;
  }
  return closed;
}

function dropAll(): number {
  autoReconnect = false;
  let dropped = 0;
  for (const stream of streams) {
    if (stream.socket === null) continue;
    stream.closedByUs = true;
    stream.socket.resetAndDestroy();
    stream.socket = null;
    dropped++;
  }
  return dropped;
}

/**
 * Reopens every dropped stream from its cursor. `timing` 'agent': each stream waits what the agent
 * waits after losing its connection (full jitter over the server's `retry:`), as a fleet of real
 * agents comes back; 'instant': all in the same instant (the worst case). `maxInFlight` > 0 paces the
 * instant variant to that many handshakes+replays at a time.
 */
function reconnectAll(
  auto: boolean,
  retryMs: number,
  maxInFlight: number,
  timing: 'agent' | 'instant',
): number {
  autoReconnect = auto;
  serverRetryMs = retryMs;
  const queue = streams.filter((s) => s.socket === null);
  if (timing === 'agent') {
    for (const stream of queue) {
      const delay = agentDelay(stream);
      stream.attempt++;
      setTimeout(() => {
        if (stream.socket === null) open(stream);
      }, delay);
    }
    return queue.length;
  }
  let inFlight = 0;
  const pump = () => {
    while (queue.length > 0 && (maxInFlight === 0 || inFlight < maxInFlight)) {
      const stream = queue.shift() as Stream;
      inFlight++;
      stream.settle = () => {
        inFlight--;
        pump();
      };
      open(stream);
    }
  };
  const started = queue.length;
  pump();
  return started;
}

function addWatch(afterId: number, needReady: boolean): number {
  const watch: Watch = {
    afterId,
    needReady,
    times: new Float64Array(streams.length).fill(Number.NaN),
    pending: 0,
    done: null,
  };
  const now = monoMs();
  for (const stream of streams) {
    // Already past it: stamped now, so it never counts twice.
    if (passes(stream, watch)) watch.times[stream.index] = now;
    else watch.pending++;
  }
  watches.push(watch);
  return watches.length - 1;
}

function awaitWatch(index: number, timeoutMs: number): Promise<WatchResult> {
  const watch = watches[index];
  if (watch === undefined) return Promise.reject(new Error(`no watch ${index}`));
  const finish = (): WatchResult => {
    watch.done = null;
    return {
      times: Array.from(watch.times),
      missing: watch.pending,
    };
  };
  if (watch.pending === 0) return Promise.resolve(finish());
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(finish()), timeoutMs);
    watch.done = () => {
      clearTimeout(timer);
      resolve(finish());
    };
  });
}

function verify(expected: number[]): VerifyResult {
  return verifyLogs(
    streams.map((stream) => stream.log),
    expected,
  );
}

function stats(): SubscriberStats {
  let open = 0;
  let ready = 0;
  let heartbeats = heartbeatsOfClosed;
  for (const stream of streams) {
    if (stream.socket !== null) open++;
    if (stream.scan.ready && stream.socket !== null) ready++;
    heartbeats += stream.scan.heartbeats;
  }
  return { open, ready, heartbeats, bytes, serverCloses, reconnects, gaps, failures: { ...failures } };
}

async function handle(request: SubscriberRequest): Promise<unknown> {
  switch (request.op) {
    case 'clock':
      return monoMs();
    case 'connect':
      return connectMany(request.count, request.maxInFlight, request.timeoutMs);
    case 'close':
      return closeLast(request.count);
    case 'drop':
      return dropAll();
    case 'reconnect':
      return reconnectAll(request.autoReconnect, request.retryMs, request.maxInFlight, request.timing);
    case 'watch':
      return addWatch(request.afterId, request.needReady);
    case 'await':
      return awaitWatch(request.watch, request.timeoutMs);
    case 'log':
      logging = true;
      for (const stream of streams) stream.log = new IdLog();
      return streams.length;
    case 'verify':
      return verify(request.expected);
    case 'stats':
      return stats();
  }
}

exitWithParent();
process.on('message', (message: { seq: number; request: SubscriberRequest }) => {
  handle(message.request).then(
    (value) => process.send?.({ seq: message.seq, ok: true, value }),
    (error: unknown) => process.send?.({ seq: message.seq, ok: false, error: String(error) }),
  );
});
process.send?.({ seq: 0, ok: true, value: 'up' });
