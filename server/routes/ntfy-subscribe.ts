import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { CONTENT_TYPES, controlEvent, encodeNtfyEvent, type NtfyFormat } from '../ntfy/encoders.ts';
import { NtfyHub } from '../ntfy/hub.ts';
import type { Headers, Query } from '../ntfy/params.ts';
import { NtfyStreamFormats } from '../ntfy/stream-format.ts';
import { type NtfySubscribeParams, parseSubscribeParams } from '../ntfy/subscribe-params.ts';
import { type NtfySink, NtfySubscription } from '../ntfy/subscription.ts';
import { HttpProblem } from '../problem.ts';
import { startRevocationCheck } from '../revocation.ts';
import { openStream } from '../stream.ts';
import { subscription } from '../topics.ts';
import { corsHeaders } from './cors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    ntfySubscribe: NtfySubscribeParams | null;
  }
}

/** A WebSocket's normal close code (RFC 6455 §7.4.1): a poll is done, or the server closed it. */
const NORMAL_CLOSURE = 1000;

function httpSink(reply: FastifyReply, format: NtfyFormat, topics: readonly string[]): NtfySink {
  const res = reply.raw;
  return {
    send(event) {
      if (res.writableEnded || res.destroyed) return false;
      res.write(encodeNtfyEvent(format, event));
      return true;
    },
    buffered: () => res.writableLength,
    drained: () =>
      res.writableNeedDrain && !res.destroyed
        ? new Promise((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          })
        : Promise.resolve(),
    keepalive(now) {
      if (!res.writableEnded && !res.destroyed)
        res.write(encodeNtfyEvent(format, controlEvent('keepalive', topics, now)));
    },
    close(abort) {
      if (abort === true) res.destroy();
      else if (!res.writableEnded && !res.destroyed) res.end();
    },
  };
}

function wsSink(socket: WebSocket): NtfySink {
  const open = () => socket.readyState === socket.OPEN;
  return {
    send(event) {
      if (!open()) return false;
      socket.send(JSON.stringify(event));
      return true;
    },
    buffered: () => socket.bufferedAmount,
    async drained() {
      while (open() && socket.bufferedAmount > 0) await new Promise((r) => setTimeout(r, 20));
    },
    // ntfy keeps WebSockets alive with ping frames, not keepalive events.
    keepalive() {
      if (open()) socket.ping();
    },
    close(abort) {
      if (abort === true) socket.terminate();
      else if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
        socket.close(NORMAL_CLOSURE);
    },
  };
}

/**
 * ntfy's subscribe API (https://docs.ntfy.sh/subscribe/api/): `GET /{topics}/json|sse|raw|ws` with a
 * comma-separated topic list, `poll=1`, `since=`, `scheduled=1` and the filters. Same tokens, scopes
 * and topic ACLs as the native stream; only alarms on the requested topics are sent, and an alarm
 * addressed to a user only ever to that user.
 */
export async function registerNtfySubscribeRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const hub = new NtfyHub({ keepaliveMs: ctx.config.ntfyKeepaliveMs });
  // The same revocation check as native streams: a revoked token's subscriptions close within a second.
  const stopRevocationCheck = startRevocationCheck(
    hub,
    ctx.tokens,
    { pollMs: ctx.config.revocationPollMs, sweepMs: ctx.config.tokenRecheckMs, lookbackMs: 5 * 60_000 },
    ctx.now,
    (error) => app.log.warn({ err: error }, 'ntfy token revocation check failed'),
  );
  app.addHook('preClose', async () => hub.closeAll());
  app.addHook('onClose', async () => {
    stopRevocationCheck();
    hub.stop();
  });

  await app.register(async (scope) => {
    await scope.register(websocket, { options: { maxPayload: 4 * 1024 } });
    scope.decorateRequest('ntfySubscribe', null);

    /** Auth, ACLs and parameters, before any upgrade or stream starts: failures are plain HTTP problems. */
    const onRequest = async (request: FastifyRequest) => {
      const principal = await authenticate(ctx, request, 'subscribe');
      const { topics } = request.params as { topics: string };
      const params = parseSubscribeParams(
        topics,
        request.headers as Headers,
        request.query as Query,
        (raw) => ctx.store.parseId(raw),
        ctx.now(),
      );
      // Throws 403 for a topic the token may not read, exactly as the native stream.
      subscription(principal, params.topics.join(','));
      // One budget with the native streams: ntfy subscriptions count against the same cap.
      const open = hub.streamsOf(principal.tokenId) + ctx.registry.streamsOf(principal.tokenId);
      if (!params.poll && open >= ctx.config.maxStreamsPerToken) {
        throw new HttpProblem(
          'too-many-streams',
          `this token already has ${ctx.config.maxStreamsPerToken} open streams; close one or use another token`,
          { retryAfter: 30 },
        );
      }
      const health = ctx.store.health();
      if (!health.ready) throw new HttpProblem('unavailable', health.reason, { retryAfter: 5 });
      request.ntfySubscribe = params;
    };

    /** Starts a subscription; it closes (and leaves the hub) when the peer goes away. */
    const start = (request: FastifyRequest, sink: NtfySink, onPeerClose: (fn: () => void) => void): void => {
      const principal = principalOf(request);
      const params = request.ntfySubscribe as NtfySubscribeParams;
      const sub = new NtfySubscription({
        store: ctx.store,
        principal,
        visibility: subscription(principal, params.topics.join(',')),
        params,
        sink,
        pageSize: ctx.config.replayPageSize,
        expiresAfterMs: ctx.config.retention.maxAgeMs,
        maxBufferedBytes: ctx.config.maxBufferedBytes,
        slowConsumerGraceMs: ctx.config.slowConsumerGraceMs,
        replayChunkBytes: ctx.config.replayPageBytes,
        now: ctx.now,
      });
      if (!params.poll) hub.add(sub);
      onPeerClose(() => sub.close());
      sub.start().catch((error: unknown) => {
        request.log.warn({ err: error }, 'ntfy subscription failed; closing it');
        sub.close();
      });
    };

    const formats = new NtfyStreamFormats({
      keepaliveMs: ctx.config.ntfyKeepaliveMs,
      heartbeatMs: ctx.config.heartbeatMs,
      expiresAfterMs: ctx.config.retention.maxAgeMs,
    });

    for (const format of ['json', 'sse', 'raw'] as const) {
      scope.get(`/:topics/${format}`, { onRequest }, async (request, reply) => {
        const params = request.ntfySubscribe as NtfySubscribeParams;
        if (!params.poll && !params.latest && !params.scheduled) {
          // A live stream: the shared stream core (registry, replay window, backpressure, slow
          // consumers, heartbeats, revocation, shutdown), with ntfy's wire format.
          const principal = principalOf(request);
          return openStream(ctx, request, reply, {
            principal,
            visibility: subscription(principal, params.topics.join(',')),
            cursor: params.cursor,
            cursorTime: undefined,
            clientId: null,
            format: formats.get(format, params.topics, params.filter),
            headers: corsHeaders(ctx, request),
          });
        }
        // Polls, since=latest and scheduled=1 (one-shot reads around the live part).
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': CONTENT_TYPES[format],
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
          ...corsHeaders(ctx, request),
        });
        res.socket?.setNoDelay(true);
        res.socket?.setTimeout(0);
        const sink = httpSink(reply, format, (request.ntfySubscribe as NtfySubscribeParams).topics);
        start(request, sink, (fn) => res.on('close', fn));
      });
    }

    // ntfy's apps check credentials for a subscription with this before subscribing.
    scope.get('/:topics/auth', { onRequest }, async () => ({ success: true }));

    scope.get('/:topics/ws', { onRequest, websocket: true }, (socket, request) => {
      // The client sends nothing ntfy defines; its messages are ignored (maxPayload bounds them).
      socket.on('error', () => socket.terminate());
      start(request, wsSink(socket), (fn) => socket.on('close', fn));
    });
  });
}
