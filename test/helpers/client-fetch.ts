import type { FetchFunction } from '../../client/stream.ts';

/**
 * Wraps fetch to prove the agent's central invariant: when a stream request starts, every earlier one
 * has already been aborted or has finished. Never two concurrent streams.
 */
export interface TrackedFetch {
  readonly fetch: FetchFunction;
  readonly calls: number;
  /** Descriptions of every overlap seen; must stay empty. */
  readonly overlaps: string[];
  readonly headers: Headers[];
}

export function trackingFetch(
  inner: FetchFunction = (input, init) => globalThis.fetch(input, init),
): TrackedFetch {
  const live: { index: number; signal: AbortSignal | undefined; settled: boolean }[] = [];
  const overlaps: string[] = [];
  const headers: Headers[] = [];
  const tracked: TrackedFetch = {
    get calls() {
      return live.length;
    },
    overlaps,
    headers,
    fetch: async (input, init) => {
      const index = live.length;
      for (const previous of live) {
        if (!previous.settled && previous.signal?.aborted !== true) {
          overlaps.push(`request ${index} started while request ${previous.index} was still open`);
        }
      }
      const entry = { index, signal: init?.signal ?? undefined, settled: false };
      live.push(entry);
      headers.push(new Headers(init?.headers));
      try {
        const response = await inner(input, init);
        if (response.status !== 200 || response.body === null) entry.settled = true;
        else {
          // Settled once the body is done: wrap it so its end is observed.
          const reader = response.body.getReader();
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              try {
                const { done, value } = await reader.read();
                if (done) {
                  entry.settled = true;
                  controller.close();
                } else controller.enqueue(value);
              } catch (error) {
                entry.settled = true;
                controller.error(error);
              }
            },
            cancel(reason) {
              entry.settled = true;
              return reader.cancel(reason);
            },
          });
          return new Response(body, { status: response.status, headers: response.headers });
        }
        return response;
      } catch (error) {
        entry.settled = true;
        throw error;
      }
    },
  };
  return tracked;
}
