/**
 * The options docs/api.md lists for @microsoft/fetch-event-source, written once: the Node suite imports
 * this module and the browser harness loads the same file with its types stripped (compat-clients.ts
 * serves it), so both test exactly what the documentation tells users to write.
 * Erasable TypeScript only (type imports and annotations): it must run once its types are removed.
 */
import type { FetchEventSourceInit } from '@microsoft/fetch-event-source';

/** Thrown from `onopen` for an answer that retrying cannot fix; rethrown from `onerror` to stop. */
export class FatalError extends Error {}
/** Anything else: returning from `onerror` after it means "retry after the backoff". */
export class RetriableError extends Error {}

/** What the page's code does with what the library reports. */
export interface StreamSink {
  opened(): void;
  alarm(id: string, data: string): void;
  ready(): void;
  /** Any other message: Tocsin sends none, so it is noise the library surfaced. */
  other(): void;
  error(): void;
}

export function tocsinStreamOptions(
  token: string,
  signal: AbortSignal,
  sink: StreamSink,
): FetchEventSourceInit {
  return {
    headers: { Authorization: `Bearer ${token}` },
    signal,
    // Otherwise it closes the stream whenever the tab is hidden.
    openWhenHidden: true,
    async onopen(response) {
      const type = response.headers.get('content-type') ?? '';
      if (response.ok && type.startsWith('text/event-stream')) {
        sink.opened();
        return;
      }
      // Its default retries everything, a bad token forever: a 4xx other than 429 will not get better.
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        throw new FatalError(`status ${response.status}`);
      }
      throw new RetriableError(`status ${response.status}`);
    },
    onmessage(message) {
      if (message.event === 'alarm') sink.alarm(message.id, message.data);
      else if (message.event === 'ready') sink.ready();
      else sink.other();
    },
    onclose() {
      // The server ended the stream (a restart): without this throw it resolves and never reconnects.
      throw new RetriableError('stream ended');
    },
    onerror(error) {
      sink.error();
      if (error instanceof FatalError) throw error;
    },
  };
}
