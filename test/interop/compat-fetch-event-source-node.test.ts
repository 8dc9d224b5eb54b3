import { fetchEventSource } from '@microsoft/fetch-event-source';
import { afterAll, beforeAll, describe } from 'vitest';
import { compatibilityChecks } from '../helpers/compat-checks.ts';
import { type ClientDriver, emptyRecord } from '../helpers/compat-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// fetch-event-source 2.0.1 is written for browsers: it calls window.setTimeout, window.fetch and
// document.removeEventListener even with openWhenHidden. In Node it needs these two globals (docs/api.md).
const g = globalThis as Record<string, unknown>;
g.window ??= globalThis;
g.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

class FatalError extends Error {}
class RetriableError extends Error {}

/** @microsoft/fetch-event-source in Node, with the options docs/api.md lists (the browser harness has the same). */
const fetchEventSourceNode: ClientDriver = {
  name: 'fetch-event-source (Node)',
  async open(url, token) {
    const rec = emptyRecord();
    const controller = new AbortController();
    fetchEventSource(url, {
      headers: { Authorization: `Bearer ${token}` },
      signal: controller.signal,
      openWhenHidden: true,
      fetch: globalThis.fetch,
      async onopen(response) {
        const type = response.headers.get('content-type') ?? '';
        if (response.ok && type.startsWith('text/event-stream')) {
          rec.opens++;
          return;
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          throw new FatalError(`status ${response.status}`);
        }
        throw new RetriableError(`status ${response.status}`);
      },
      onmessage(message) {
        if (message.event === 'alarm') {
          rec.alarms.push({ id: message.id, title: (JSON.parse(message.data) as { title: string }).title });
        } else if (message.event === 'ready') rec.readies++;
        else rec.empty++;
      },
      onclose() {
        throw new RetriableError('stream ended');
      },
      onerror(error) {
        rec.errors++;
        if (error instanceof FatalError) throw error;
      },
    }).catch((error: Error) => {
      rec.closed = true;
      rec.failure = error.message;
    });
    return {
      state: async () => structuredClone(rec),
      close: async () => controller.abort(),
    };
  },
};

describe('@microsoft/fetch-event-source (Node) against Tocsin', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ heartbeatMs: 250, retryMs: 300 });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  compatibilityChecks(fetchEventSourceNode, {
    server: () => server,
    streamUrl: (topic) => `${server.url}/v1/stream?topics=${topic}`,
  });
});
