import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CursorRequest, ReadyEvent } from '../protocol/index.ts';
import type { ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';
import { replay, replayStart } from './replay.ts';
import { StreamSession } from './session.ts';
import type { Visibility } from './store/store.ts';
import type { StreamFormat } from './stream-format.ts';
import type { Principal } from './tokens.ts';

/** Headers every stream carries, whatever its format. */
export const STREAM_HEADERS = {
  // no-transform: proxies must not compress or rewrite the stream (compression buffers frames).
  'cache-control': 'no-cache, no-transform',
  // nginx: do not buffer this response.
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

/** What a subscribe route validated and hands over. */
export interface StreamSpec {
  readonly principal: Principal;
  readonly visibility: Visibility;
  readonly cursor: CursorRequest;
  /** The client's record of its cursor alarm's time (rollback detection), if sent. */
  readonly cursorTime: number | undefined;
  readonly clientId: string | null;
  readonly format: StreamFormat;
  /** Extra response headers (CORS). */
  readonly headers: Record<string, string>;
}

/**
 * A subscriber's stream from open to close: admission (client replacement, the per-token cap, store
 * health), the start point and its gap, then — once the response is ours — the session joins the
 * registry, replays, goes live and says `ready`. Routes only validate and call this; the registry
 * owns membership; the session owns the socket.
 */
export async function openStream(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  spec: StreamSpec,
): Promise<void> {
  const { principal, clientId, format } = spec;
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
  // Before the response is ours, so that a store failure is still a clean 503.
  const start = await replayStart(ctx.replay, spec.cursor, spec.cursorTime);

  // From here on the response is ours, not Fastify's: every byte goes through the guarded session.
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': format.contentType, ...STREAM_HEADERS, ...spec.headers });
  const socket = res.socket;
  if (socket !== null) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(0);
  }
  const log = request.log;
  const session = new StreamSession(
    res,
    { principal, visibility: spec.visibility, format, after: start.after, clientId },
    {
      maxBufferedBytes: ctx.config.maxBufferedBytes,
      maxFrameBytes: ctx.config.maxMessageBytes * 2 + 4096,
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
          log.warn(
            { session: closed.id, user: closed.principal.user },
            'closed a stream that stopped reading',
          );
        } else {
          // A client that vanished is routine: debug, never an error.
          log.debug({ session: closed.id, reason, err: error }, 'stream closed');
        }
      },
    },
  );
  ctx.registry.add(session);
  ctx.metrics.openStreams.inc();
  const opened = format.opened();
  if (opened !== null) session.write(opened);
  if (start.gap !== null) {
    const gap = format.gap(start.gap);
    if (gap !== null) session.write(gap);
  }
  if (start.replay) {
    try {
      await replay(ctx.replay, session);
    } catch (error) {
      // The store failed mid-replay: end the stream; the client reconnects and replays from its cursor.
      log.warn({ err: error, session: session.id }, 'replay failed; closing the stream');
      session.close('shutdown', format.shutdown(ctx.config.retryMs));
      return;
    }
  }
  if (session.closed) return;
  session.goLive();
  const ready: ReadyEvent = {
    heartbeatMs: ctx.config.heartbeatMs,
    cursor: session.cursor,
    storeId: ctx.store.storeId(),
  };
  const readyFrame = format.ready(ready);
  if (readyFrame !== null) session.write(readyFrame);
}
