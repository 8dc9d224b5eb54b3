import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLIENT_ID_HEADER, CLIENT_ID_PATTERN, type ReadyEvent } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { replay } from '../replay.ts';
import { SseSession } from '../session.ts';
import { encodeEvent, encodeRetry } from '../sse.ts';
import { subscription } from '../topics.ts';
import { corsHeaders } from './cors.ts';

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: proxies must not compress or rewrite the stream (compression buffers frames).
  'cache-control': 'no-cache, no-transform',
  // nginx: do not buffer this response.
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

/** The cursor a reconnecting client stands at: Last-Event-ID (what EventSource sends), else `?since=`. */
export function requestedCursor(ctx: ServerContext, request: FastifyRequest): string | null {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown>).since;
  const raw = typeof header === 'string' && header !== '' ? header : typeof query === 'string' ? query : '';
  if (raw === '') return null;
  const id = ctx.store.parseId(raw.trim());
  if (id === null) {
    throw new HttpProblem('bad-last-event-id', `"${raw.slice(0, 64)}" is not an alarm id of this server`);
  }
  return id;
}

export function registerStreamRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/v1/stream',
    {
      onRequest: async (request) => {
        await authenticate(ctx, request, 'subscribe', { allowQueryToken: true });
      },
    },
    async (request, reply) => openStream(ctx, request, reply),
  );
}

async function openStream(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const principal = principalOf(request);
  const query = request.query as Record<string, unknown>;
  const visibility = subscription(principal, typeof query.topics === 'string' ? query.topics : undefined);
  const after = requestedCursor(ctx, request);
  const rawClientId = request.headers[CLIENT_ID_HEADER];
  const clientId =
    typeof rawClientId === 'string' && CLIENT_ID_PATTERN.test(rawClientId) ? rawClientId : null;
  // The same client reconnecting: its old connection is dead or dying; it must not hold a slot.
  if (clientId !== null) ctx.registry.replaceClient(principal.tokenId, clientId);
  if (ctx.registry.streamsOf(principal.tokenId) >= ctx.config.maxStreamsPerToken) {
    throw new HttpProblem(
      'too-many-streams',
      `this token already has ${ctx.config.maxStreamsPerToken} open streams; close one or use another token`,
      { retryAfter: 30 },
    );
  }
  const health = ctx.store.health();
  if (!health.ready) throw new HttpProblem('unavailable', health.reason, { retryAfter: 5 });

  // From here on the stream is ours, not Fastify's: every byte goes through the guarded session.
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...STREAM_HEADERS, ...corsHeaders(ctx, request) });
  const socket = res.socket;
  if (socket !== null) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(0);
  }
  const log = request.log;
  const session = new SseSession(res, principal, visibility, after, {
    maxBufferedBytes: ctx.config.maxBufferedBytes,
    slowConsumerGraceMs: ctx.config.slowConsumerGraceMs,
    now: ctx.now,
    compareIds: (a, b) => ctx.store.compareIds(a, b),
    onFrame: () => ctx.metrics.framesWritten.inc(),
    onClose: (closed, reason, error) => {
      ctx.registry.remove(closed);
      ctx.metrics.openStreams.dec();
      ctx.metrics.disconnects.inc({ reason });
      if (reason === 'slow-consumer') {
        ctx.metrics.slowConsumerDrops.inc();
        log.warn({ session: closed.id, user: closed.principal.user }, 'closed a stream that stopped reading');
      } else {
        // A client that vanished is routine: debug, never an error.
        log.debug({ session: closed.id, reason, err: error }, 'stream closed');
      }
    },
  });
  session.clientId = clientId;
  ctx.registry.add(session);
  ctx.metrics.openStreams.inc();
  session.write(encodeRetry(ctx.config.retryMs));
  try {
    await replay(ctx.store, session, ctx.config.replayPageSize);
  } catch (error) {
    // The store failed mid-replay: end the stream; the client reconnects and replays from its cursor.
    log.warn({ err: error, session: session.id }, 'replay failed; closing the stream');
    session.close('shutdown', encodeRetry(ctx.config.retryMs));
    return;
  }
  if (session.closed) return;
  session.goLive();
  const ready: ReadyEvent = {
    heartbeatMs: ctx.config.heartbeatMs,
    cursor: session.lastId,
    storeId: ctx.store.storeId(),
  };
  session.write(encodeEvent('ready', JSON.stringify(ready)));
}
