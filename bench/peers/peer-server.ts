/**
 * What both peers share, so that they differ from each other only in how they hold and write SSE
 * streams: the same routes as Tocsin (`GET /v1/stream?topics=`, `POST /v1/alarms` → 201 `{id,time}`,
 * `GET /healthz` with the open stream count), the same bearer check, a validated JSON publish, and
 * Last-Event-ID replay from memory. Plain `node:http`, no framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AlarmLog, NewPeerAlarm, PeerAlarm } from './alarm-log.ts';
import { bearerCheck } from './bearer.ts';
import type { PeerOptions } from './peer-options.ts';

export interface StreamRequest {
  topics: ReadonlySet<string>;
  lastEventId: string | undefined;
}

/** The part each peer implements its own way. */
export interface SseTransport {
  /** Takes over `res`: headers, `retry:`, the replay, `event: ready`, then live alarms and heartbeats. */
  open(req: IncomingMessage, res: ServerResponse, stream: StreamRequest): void;
  broadcast(alarm: PeerAlarm): void;
  readonly streams: number;
  closeAll(): void;
}

const MAX_BODY = 16 * 1024;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  json(res, status, { type: `urn:tocsin:problem:${code}`, status, code, detail });
}

/** Tocsin's publish rules, the parts that matter for this payload. Returns an error message or the alarm. */
export function validateAlarm(input: unknown): NewPeerAlarm | string {
  if (typeof input !== 'object' || input === null) return 'the alarm must be a JSON object';
  const { topic, title, body, priority = 3, tags = [] } = input as Record<string, unknown>;
  if (typeof topic !== 'string' || !NAME.test(topic)) return 'topic: 1-64 of A-Z a-z 0-9 _ -';
  if (typeof title !== 'string' || title.length < 1 || title.length > 256) return 'title: 1-256 characters';
  if (body !== undefined && (typeof body !== 'string' || Buffer.byteLength(body) > 4096))
    return 'body: ≤ 4096 bytes';
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 1 || priority > 5)
    return 'priority: 1-5';
  if (!Array.isArray(tags) || tags.length > 16 || !tags.every((t) => typeof t === 'string' && t.length <= 64))
    return 'tags: up to 16 strings';
  return { topic, title, ...(body !== undefined && { body }), priority, tags: tags as string[] };
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

export function runPeer(options: PeerOptions, log: AlarmLog, transport: SseTransport): void {
  const authorized = bearerCheck(options.token);

  const publish = async (req: IncomingMessage, res: ServerResponse) => {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return problem(res, 415, 'unsupported-media-type', 'send the alarm as application/json');
    }
    const text = await readBody(req);
    if (text === null) return problem(res, 413, 'payload-too-large', 'the body is over the size limit');
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch {
      return problem(res, 400, 'bad-request', 'the body is not valid JSON');
    }
    const alarm = validateAlarm(input);
    if (typeof alarm === 'string') return problem(res, 400, 'bad-request', alarm);
    const stored = log.append(alarm, Date.now());
    // Same order as Tocsin: the alarm is stored (here: in memory), fanned out, then acknowledged.
    transport.broadcast(stored);
    json(res, 201, { id: stored.id, time: stored.time });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://peer');
    if (url.pathname === '/healthz' && req.method === 'GET') {
      return json(res, 200, { status: 'ok', streams: transport.streams });
    }
    const known = url.pathname === '/v1/stream' || url.pathname === '/v1/alarms';
    if (!known) return problem(res, 404, 'not-found', `no route for ${req.method} ${url.pathname}`);
    if (!authorized(req.headers.authorization)) {
      return problem(res, 401, 'unauthorized', 'send Authorization: Bearer <token>');
    }
    if (url.pathname === '/v1/stream' && req.method === 'GET') {
      const header = req.headers['last-event-id'];
      const lastEventId =
        typeof header === 'string' && header !== '' ? header : (url.searchParams.get('since') ?? undefined);
      const topics = new Set((url.searchParams.get('topics') ?? '').split(',').filter((t) => NAME.test(t)));
      return transport.open(req, res, { topics, lastEventId });
    }
    if (url.pathname === '/v1/alarms' && req.method === 'POST') {
      publish(req, res).catch(() => problem(res, 500, 'internal', 'publish failed'));
      return;
    }
    problem(res, 404, 'not-found', `no route for ${req.method} ${url.pathname}`);
  });
  // A vanished client is routine here too: never let a socket error reach the process.
  server.on('clientError', (_error, socket) => socket.destroy());

  server.listen(options.port, options.host, options.backlog, () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    process.stdout.write(`listening on http://${address.address}:${address.port}\n`);
  });
  const shutdown = () => {
    transport.closeAll();
    server.close();
    // Exit normally (not by signal) so that --cpu-prof writes its profile.
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
