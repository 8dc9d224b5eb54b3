import { fetchEventSource } from '@microsoft/fetch-event-source';
import { afterAll, beforeAll, describe } from 'vitest';
import { compatibilityChecks } from '../helpers/compat-checks.ts';
import { type ClientDriver, emptyRecord } from '../helpers/compat-clients.ts';
import { tocsinStreamOptions } from '../helpers/fetch-event-source-options.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// fetch-event-source 2.0.1 is written for browsers: it calls window.setTimeout, window.fetch and
// document.removeEventListener even with openWhenHidden. In Node it needs these two globals (docs/api.md).
const g = globalThis as Record<string, unknown>;
g.window ??= globalThis;
g.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

/** @microsoft/fetch-event-source in Node, with the options docs/api.md lists (the browser harness loads the same module). */
const fetchEventSourceNode: ClientDriver = {
  name: 'fetch-event-source (Node)',
  async open(url, token) {
    const rec = emptyRecord();
    const controller = new AbortController();
    const options = tocsinStreamOptions(token, controller.signal, {
      opened: () => {
        rec.opens++;
      },
      alarm: (id, data) => {
        rec.alarms.push({ id, title: (JSON.parse(data) as { title: string }).title });
      },
      ready: () => {
        rec.readies++;
      },
      other: () => {
        rec.empty++;
      },
      error: () => {
        rec.errors++;
      },
    });
    fetchEventSource(url, { ...options, fetch: globalThis.fetch }).catch((error: Error) => {
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
