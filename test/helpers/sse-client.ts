import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';

/** One parsed SSE frame (WHATWG event-stream rules: fields per line, blank line dispatches). */
export interface SseFrame {
  event: string;
  data: string;
  id: string | undefined;
}

export interface StreamOptions {
  token?: string;
  topics?: string[];
  lastEventId?: string;
  since?: string;
  /** More query parameters (e.g. event-source-polyfill's `lastEventId`). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * A raw SSE test client over node:http (not EventSource): it sees every byte, including comment
 * frames, and can vanish abruptly (RST) the way a sleeping laptop or a killed process does.
 */
export class RawStream {
  readonly frames: SseFrame[] = [];
  readonly retries: number[] = [];
  comments = 0;
  bytes = 0;
  response!: IncomingMessage;
  body = '';
  /** The stream's text exactly as received (first 1 MiB). */
  raw = '';
  ended = false;
  #buffer = '';
  #event: { event?: string; id?: string; data?: string[] } = {};
  #waiters = new Set<() => void>();
  readonly #request: ClientRequest;

  private constructor(req: ClientRequest) {
    this.#request = req;
  }

  static open(baseUrl: string, options: StreamOptions = {}): Promise<RawStream> {
    const url = new URL('/v1/stream', baseUrl);
    if (options.topics !== undefined) url.searchParams.set('topics', options.topics.join(','));
    if (options.since !== undefined) url.searchParams.set('since', options.since);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    return new Promise((resolve, reject) => {
      const req = request(url, { headers, agent: false });
      const stream = new RawStream(req);
      req.on('error', (error) => {
        stream.ended = true;
        stream.#notify();
        reject(error);
      });
      req.on('response', (res) => {
        stream.response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => stream.#feed(chunk));
        res.on('error', () => {});
        res.on('close', () => {
          stream.ended = true;
          stream.#notify();
        });
        resolve(stream);
      });
      req.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get socket(): Socket {
    return this.#request.socket as Socket;
  }

  alarms(): { id: string; [key: string]: unknown }[] {
    return this.frames.filter((f) => f.event === 'alarm').map((f) => JSON.parse(f.data));
  }

  alarmIds(): string[] {
    return this.frames.filter((f) => f.event === 'alarm').map((f) => f.id as string);
  }

  #feed(chunk: string): void {
    this.bytes += Buffer.byteLength(chunk);
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    if (this.raw.length < 1 << 20) this.raw += chunk;
    this.#buffer += chunk;
    const lines = this.#buffer.split(/\r\n|\r|\n/);
    this.#buffer = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
    this.#notify();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#event.data !== undefined) {
        this.frames.push({
          event: this.#event.event ?? 'message',
          data: this.#event.data.join('\n'),
          id: this.#event.id,
        });
      }
      this.#event = {};
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event.event = value;
    else if (field === 'data') this.#event.data = [...(this.#event.data ?? []), value];
    else if (field === 'id') this.#event.id = value;
    else if (field === 'retry') this.retries.push(Number(value));
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves when `predicate` holds; rejects after `timeoutMs` with what was seen so far. */
  waitFor(predicate: (s: RawStream) => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this)) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; saw ${this.frames.length} frames: ${this.frames
              .map((f) => `${f.event}#${f.id ?? ''}`)
              .join(' ')
              .slice(-400)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  waitForEvent(event: string, timeoutMs?: number): Promise<void> {
    return this.waitFor((s) => s.frames.some((f) => f.event === event), timeoutMs, `event "${event}"`);
  }

  waitForAlarms(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((s) => s.alarmIds().length >= count, timeoutMs, `${count} alarms`);
  }

  waitForEnd(timeoutMs?: number): Promise<void> {
    return this.waitFor((s) => s.ended, timeoutMs, 'the stream to end');
  }

  /** Polite close (FIN). */
  close(): void {
    this.#request.destroy();
  }

  /** Abrupt vanish: TCP RST, so the server's next write fails with ECONNRESET/EPIPE. */
  reset(): void {
    const socket = this.#request.socket as Socket | null;
    if (socket !== null && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else this.#request.destroy();
  }

  /** Stops reading: the kernel buffers fill and the server's writes start to queue. */
  pause(): void {
    this.response.pause();
    (this.#request.socket as Socket | null)?.pause();
  }
}
