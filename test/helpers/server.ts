import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Scope } from '../../protocol/index.ts';
import { createServer, type ServerDeps, type TocsinServer } from '../../server/app.ts';
import type { ServerConfigInput } from '../../server/config.ts';
import { mintToken } from '../../server/tokens.ts';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestServer {
  url: string;
  dataDir: string;
  adminToken: string;
  /** The running instance (replaced by restart()). */
  server: TocsinServer;
  /** Every pino line this server (and its restarts) logged. */
  logs: LogLine[];
  token(opts: { user: string; scope: Scope; topics?: string[]; recipients?: string[] }): Promise<string>;
  publish(token: string, body: Record<string, unknown>): Promise<{ id: string; time: number }>;
  stop(): Promise<void>;
  /** Starts again on the same data dir and the same port. */
  restart(): Promise<void>;
  /** stop() and delete the data dir. */
  dispose(): Promise<void>;
}

export type TestServerOptions = Partial<ServerConfigInput> & { deps?: ServerDeps };

/** A real Tocsin server on 127.0.0.1, port 0 by default, with its own temporary SQLite data dir. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { deps, ...overrides } = options;
  const dataDir = overrides.dataDir ?? (await mkdtemp(join(tmpdir(), 'tocsin-test-')));
  const logs: LogLine[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  let port = overrides.port ?? 0;
  let running = false;
  const start = async (): Promise<{ server: TocsinServer; url: string }> => {
    const server = createServer(
      { host: '127.0.0.1', logLevel: 'debug', heartbeatMs: 1_000, retryMs: 100, ...overrides, dataDir, port },
      { logStream, ...deps },
    );
    const url = await server.listen();
    port = Number(new URL(url).port);
    running = true;
    return { server, url };
  };
  const first = await start();
  const { token: adminToken } = await mintToken(
    first.server.context.tokens,
    { user: 'admin', scope: 'admin', topics: null },
    Date.now(),
  );
  const handle: TestServer = {
    url: first.url,
    dataDir,
    adminToken,
    server: first.server,
    logs,
    async token({ user, scope, topics, recipients }) {
      const minted = await mintToken(
        handle.server.context.tokens,
        { user, scope, topics: topics ?? null, recipients: recipients ?? null },
        Date.now(),
      );
      return minted.token;
    },
    async publish(token, body) {
      const response = await fetch(`${handle.url}/v1/alarms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201)
        throw new Error(`publish failed: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string; time: number };
    },
    async stop() {
      if (!running) return;
      running = false;
      await handle.server.close();
    },
    async restart() {
      await handle.stop();
      const next = await start();
      handle.server = next.server;
      handle.url = next.url;
    },
    async dispose() {
      await handle.stop();
      if (overrides.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}
