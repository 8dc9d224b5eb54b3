import { EventSource, type FetchLike, type FetchLikeResponse } from 'eventsource';
import type { z } from 'zod';
import {
  Alarm,
  CLIENT_ID_HEADER,
  CURSOR_TIME_HEADER,
  formatValidationError,
  GapEvent,
  Problem,
  ReadyEvent,
} from '../protocol/index.ts';
import { parseRetryAfter } from './backoff.ts';
import type { Clock } from './clock.ts';
import type { ConnectionEnd } from './connection-end.ts';
import { RetryFieldScanner } from './retry-field.ts';

/** The fetch the agent uses: the global one by default, injectable for tests. */
export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** How one stream ended, when the agent did not close it itself (the watchdog's ends are the agent's). */
export type StreamEnd = Exclude<ConnectionEnd, { kind: 'connect-timeout' | 'heartbeat-timeout' }>;

export interface StreamHandlers {
  /** Response headers arrived with status 200 and an event-stream content type. */
  onOpen(): void;
  /** Any byte of the response: the watchdog's food. Heartbeat comments are invisible otherwise. */
  onActivity(): void;
  onRetry(ms: number): void;
  onAlarm(alarm: Alarm): void;
  onReady(ready: ReadyEvent): void;
  onGap(gap: GapEvent): void;
  /** A frame that failed validation; it was skipped. */
  onMalformed(event: string, issue: string): void;
  /** A handler threw; the stream carries on. */
  onHandlerError(error: unknown): void;
  /** Called at most once, and never after `close()`. */
  onEnd(end: StreamEnd): void;
}

export interface StreamOptions {
  readonly url: URL;
  readonly token: string;
  /** Sent as Last-Event-ID: eventsource has no option for an initial one, so our fetch adds it. */
  readonly lastEventId: string | null;
  /** The `time` of the alarm at the cursor, so the server can tell a rolled-back history (reissued ids). */
  readonly cursorTime: number | null;
  /** This agent's id (X-Tocsin-Client): the server replaces our previous stream instead of keeping both. */
  readonly clientId: string;
  readonly fetch: FetchFunction;
  readonly clock: Clock;
  readonly handlers: StreamHandlers;
}

const PROBLEM_BODY_LIMIT = 16 * 1024;
const EVENT_STREAM = /^[\t\n\r ]*text\/event-stream[\t\n\r ]*(?:;|$)/i;

/**
 * One `GET /v1/stream` through the `eventsource` package. It never reconnects by itself: on any error
 * the EventSource is closed and the end is reported once, so the agent alone decides when (and
 * whether) to connect again and from which cursor. That is what keeps two streams from ever overlapping.
 */
export class Stream {
  readonly #options: StreamOptions;
  readonly #source: EventSource;
  readonly #retryScanner = new RetryFieldScanner();
  #done = false;
  /** Set by our fetch when it already knows how the stream ended (an HTTP error, a body read failure). */
  #end: StreamEnd | undefined;
  #bodyEnded = false;

  constructor(options: StreamOptions) {
    this.#options = options;
    this.#source = new EventSource(options.url, { fetch: this.#fetch });
    this.#source.addEventListener('alarm', (event) =>
      this.#onFrame('alarm', event, Alarm, (a) => this.#handlers.onAlarm(a)),
    );
    this.#source.addEventListener('ready', (event) =>
      this.#onFrame('ready', event, ReadyEvent, (r) => this.#handlers.onReady(r)),
    );
    this.#source.addEventListener('gap', (event) =>
      this.#onFrame('gap', event, GapEvent, (g) => this.#handlers.onGap(g)),
    );
    this.#source.addEventListener('message', (event) => {
      if (!this.#done)
        this.#handlers.onMalformed('message', `unnamed event "${String(event.data).slice(0, 80)}"`);
    });
    this.#source.addEventListener('error', (event) => {
      const message = (event as Event & { message?: string }).message;
      this.#finish(
        this.#end ??
          (this.#bodyEnded
            ? { kind: 'server-closed' }
            : { kind: 'network-error', message: message ?? 'the connection failed' }),
      );
    });
  }

  get #handlers(): StreamHandlers {
    return this.#options.handlers;
  }

  /** Closes the stream and aborts its request. No `onEnd` follows. */
  close(): void {
    this.#done = true;
    this.#source.close();
  }

  #finish(end: StreamEnd): void {
    if (this.#done) return;
    this.#done = true;
    this.#source.close();
    this.#call(() => this.#handlers.onEnd(end));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      // EventTarget would rethrow a listener's error as an uncaught exception: never let one out.
      try {
        this.#handlers.onHandlerError(error);
      } catch {
        // Nothing sensible is left to do with an error handler that throws.
      }
    }
  }

  #onFrame<T>(name: string, event: MessageEvent, schema: z.ZodType<T>, deliver: (value: T) => void): void {
    if (this.#done) return;
    let json: unknown;
    try {
      json = JSON.parse(String(event.data));
    } catch {
      this.#call(() => this.#handlers.onMalformed(name, 'data is not JSON'));
      return;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const where = formatValidationError(parsed.error);
      this.#call(() => this.#handlers.onMalformed(name, where));
      return;
    }
    this.#call(() => deliver(parsed.data));
  }

  /** eventsource's fetch: adds our headers, reads error bodies, and taps every body chunk. */
  readonly #fetch: FetchLike = async (url, init) => {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${this.#options.token}`);
    if (this.#options.lastEventId !== null) {
      headers.set('Last-Event-ID', this.#options.lastEventId);
      if (this.#options.cursorTime !== null)
        headers.set(CURSOR_TIME_HEADER, String(this.#options.cursorTime));
    }
    headers.set(CLIENT_ID_HEADER, this.#options.clientId);
    let response: Response;
    try {
      response = await this.#options.fetch(url, {
        method: 'GET',
        headers,
        cache: 'no-store',
        redirect: init.redirect,
        signal: init.signal as AbortSignal | undefined,
      });
    } catch (error) {
      if (!isAbort(error)) this.#end = networkError(error);
      throw error;
    }
    if (!this.#done) this.#call(() => this.#handlers.onActivity());

    if (response.status !== 200) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#options.clock.now());
      const problem = await readProblem(response);
      this.#end = { kind: 'http', status: response.status, problem, retryAfterMs };
      // eventsource fails the connection on a non-200; hand it an empty body it need not read.
      return {
        status: response.status,
        url: response.url,
        redirected: response.redirected,
        headers: response.headers,
        body: null,
      };
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (!EVENT_STREAM.test(contentType) || response.body === null) {
      await response.body?.cancel().catch(() => {});
      this.#end = { kind: 'bad-response', contentType };
      return {
        status: 200,
        url: response.url,
        redirected: response.redirected,
        headers: response.headers,
        body: null,
      };
    }
    if (!this.#done) this.#call(() => this.#handlers.onOpen());
    return {
      status: 200,
      url: response.url,
      redirected: response.redirected,
      headers: response.headers,
      body: this.#tap(response.body),
    } satisfies FetchLikeResponse;
  };

  /** Passes the body through unchanged, reporting each chunk and how the body ended. */
  #tap(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          let result: Awaited<ReturnType<typeof reader.read>>;
          try {
            result = await reader.read();
          } catch (error) {
            if (!isAbort(error) && this.#end === undefined) {
              this.#end = networkError(error);
            }
            controller.error(error);
            return;
          }
          if (result.done) {
            this.#bodyEnded = true;
            controller.close();
            return;
          }
          if (!this.#done) {
            this.#call(() => this.#handlers.onActivity());
            for (const ms of this.#retryScanner.push(result.value))
              this.#call(() => this.#handlers.onRetry(ms));
          }
          controller.enqueue(result.value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }
}

function isAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { type?: unknown }).type === 'aborted')
  );
}

function networkError(error: unknown): StreamEnd {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
  return {
    kind: 'network-error',
    message: describeNetworkError(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/** undici hides the useful part (ECONNREFUSED, ...) in `cause`. */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
}

/** The problem+json body of an error response, or null; bounded, and never throws. */
export async function readProblem(response: Response): Promise<Problem | null> {
  try {
    const reader = response.body?.getReader();
    if (reader === undefined) return null;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > PROBLEM_BODY_LIMIT) {
        await reader.cancel();
        return null;
      }
    }
    const parsed = Problem.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
