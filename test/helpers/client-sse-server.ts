import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Alarm } from '../../protocol/index.ts';

/**
 * A scripted SSE server for agent tests (the EventSource package's own testing style): each request
 * waits in a queue until the test takes it and writes exactly the bytes, statuses and faults it wants.
 */
export interface ScenarioRequest {
  readonly index: number;
  readonly url: URL;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Resolves when the client closed its side (or the response ended). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

export interface ScenarioServer {
  readonly url: string;
  readonly requests: ScenarioRequest[];
  /** The next request not yet taken, waiting for it to arrive. */
  next(timeoutMs?: number): Promise<ScenarioRequest>;
  /** Requests that arrived but were not taken yet. */
  readonly waiting: number;
  close(): Promise<void>;
}

export async function startScenarioServer(): Promise<ScenarioServer> {
  const requests: ScenarioRequest[] = [];
  const queue: ScenarioRequest[] = [];
  const takers: ((r: ScenarioRequest) => void)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let closedFlag = false;
    const closed = new Promise<void>((resolve) => {
      res.on('close', () => {
        closedFlag = true;
        resolve();
      });
    });
    const request: ScenarioRequest = {
      index: requests.length,
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      req,
      res,
      closed,
      isClosed: () => closedFlag,
    };
    requests.push(request);
    const taker = takers.shift();
    if (taker !== undefined) taker(request);
    else queue.push(request);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get waiting() {
      return queue.length;
    },
    next(timeoutMs = 10_000) {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no request arrived in time')), timeoutMs);
        takers.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts an event stream response, with an optional `retry:` first. */
export function openSse(res: ServerResponse, retryMs?: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  if (retryMs !== undefined) res.write(`retry: ${retryMs}\n\n`);
  else res.flushHeaders();
}

export function alarmFrame(alarm: Alarm): string {
  return `event: alarm\nid: ${alarm.id}\ndata: ${JSON.stringify(alarm)}\n\n`;
}

export function readyFrame(ready: { heartbeatMs: number; cursor: string | null; storeId: string }): string {
  return `event: ready\ndata: ${JSON.stringify(ready)}\n\n`;
}

export function gapFrame(gap: {
  reason: 'pruned' | 'unknown';
  after: string;
  through: string | null;
}): string {
  return `event: gap\ndata: ${JSON.stringify(gap)}\n\n`;
}

/** An application/problem+json error like the real server's. */
export function sendProblem(
  res: ServerResponse,
  status: number,
  code: string,
  extra: { retryAfter?: string; detail?: string } = {},
): void {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (extra.retryAfter !== undefined) headers['retry-after'] = extra.retryAfter;
  res.writeHead(status, headers);
  res.end(
    JSON.stringify({
      type: `urn:tocsin:problem:${code}`,
      title: code,
      status,
      code,
      ...(extra.detail === undefined ? {} : { detail: extra.detail }),
    }),
  );
}

let nextId = 1;

/** A valid alarm; ids count up unless given. */
export function makeAlarm(overrides: Partial<Alarm> = {}): Alarm {
  const id = overrides.id ?? String(nextId++);
  return {
    id,
    time: 1_700_000_000_000 + Number(id.split('-')[0]),
    topic: 'ops',
    title: `alarm ${id}`,
    priority: 3,
    tags: [],
    ...overrides,
  };
}
