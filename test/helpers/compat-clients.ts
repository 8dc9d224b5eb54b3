import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { stripTypeScriptTypes } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';

/** What the code using an SSE client library sees, the same record for every client. */
export interface ClientRecord {
  alarms: { id: string; title: string }[];
  /** Successful opens (200 text/event-stream) as the client reports them. */
  opens: number;
  readies: number;
  errors: number;
  /** Messages that are neither `alarm` nor `ready`: noise a client surfaced (heartbeats, retry-only frames). */
  empty: number;
  /** The client gave up for good (EventSource CLOSED, or its promise rejected). */
  closed: boolean;
  failure: string | null;
}

export interface ClientHandle {
  state(): Promise<ClientRecord>;
  close(): Promise<void>;
}

/** One client library, opened the way docs/api.md says, on `streamUrl` (a /v1/stream URL). */
export interface ClientDriver {
  readonly name: string;
  open(streamUrl: string, token: string): Promise<ClientHandle>;
}

export function emptyRecord(): ClientRecord {
  return { alarms: [], opens: 0, readies: 0, errors: 0, empty: 0, closed: false, failure: null };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Files the test page can load: the harness and the browser builds of the client libraries. */
const STATIC: Record<string, string> = {
  '/harness.js': 'test/helpers/compat-harness.js',
  '/lib/event-source-polyfill.js': 'node_modules/event-source-polyfill/src/eventsource.js',
};
const FETCH_EVENT_SOURCE = 'node_modules/@microsoft/fetch-event-source/lib/esm/';

/** TypeScript modules the page loads as JavaScript (erasable syntax: stripping the types is enough). */
const STRIPPED: Record<string, string> = {
  '/lib/fetch-event-source-options.js': 'test/helpers/fetch-event-source-options.ts',
};

async function staticFile(path: string): Promise<string | null> {
  const mapped = STATIC[path];
  if (mapped !== undefined) return readFile(`${ROOT}${mapped}`, 'utf8');
  const typed = STRIPPED[path];
  if (typed !== undefined) return stripTypeScriptTypes(await readFile(`${ROOT}${typed}`, 'utf8'));
  // fetch-event-source's ESM build imports './fetch' and './parse' without an extension.
  const module = /^\/lib\/fetch-event-source\/(index|fetch|parse)(\.js)?$/.exec(path)?.[1];
  if (module !== undefined) return readFile(`${ROOT}${FETCH_EVENT_SOURCE}${module}.js`, 'utf8');
  return null;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>tocsin interop</title>
<script src="/lib/event-source-polyfill.js"></script><script src="/harness.js"></script>`;

export interface PageServer {
  /** `http://127.0.0.1:PORT`: the page's own origin (another origin than Tocsin's). */
  origin: string;
  /** The http.Server, for mounting behind nginx. */
  server: Server;
  close(): Promise<void>;
}

/** A tiny web app origin serving the test page (at any path not under /lib/) and the client libraries. */
export function startPageServer(): Promise<PageServer> {
  return listenPage((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    staticFile(path).then(
      (body) => {
        if (body !== null) {
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
          res.end(body);
        } else if (path.startsWith('/lib/')) {
          res.writeHead(404).end();
        } else {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(PAGE);
        }
      },
      () => res.writeHead(500).end(),
    );
  });
}

/**
 * An origin serving an empty page and nothing else: a browser tab there has only its own native
 * EventSource (no polyfill script that could stand in for it).
 */
export function startBlankPage(): Promise<PageServer> {
  return listenPage((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>tocsin interop</title>');
  });
}

async function listenPage(handler: RequestListener): Promise<PageServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type BrowserClientKind = 'native' | 'polyfill' | 'fetch-event-source';

/** A client library running in a fresh Chromium tab on `pageUrl`. */
export function browserDriver(
  name: string,
  kind: BrowserClientKind,
  browser: () => Browser,
  pageUrl: () => string,
): ClientDriver {
  return {
    name,
    async open(streamUrl, token) {
      const tab: Page = await browser().newPage();
      tab.on('pageerror', (error) => console.warn(`[${name}] page error: ${error.message}`));
      await tab.goto(pageUrl());
      await tab.evaluate(
        ([k, url, t]) =>
          (globalThis as unknown as { compat: { open(...a: string[]): Promise<void> } }).compat.open(
            k,
            url,
            t,
          ),
        [kind, streamUrl, token] as const,
      );
      return {
        state: () =>
          tab.evaluate(() => {
            const rec = (globalThis as unknown as { compat: { rec: ClientRecord } }).compat.rec;
            return structuredClone(rec);
          }),
        async close() {
          await tab.evaluate(() => (globalThis as unknown as { compat: { close(): void } }).compat.close());
          await tab.close();
        },
      };
    },
  };
}
