import type { FastifyInstance } from 'fastify';
import { CLIENT_ID_HEADER, CLIENT_ID_PATTERN } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { cursorOf, cursorTimeOf } from '../cursor.ts';
import { openStream, STREAM_HEADERS } from '../stream.ts';
import { subscription } from '../topics.ts';
import { corsHeaders } from './cors.ts';

interface StreamQuerystring {
  topics?: string;
}

export function registerStreamRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const onRequest = async (request: Parameters<typeof authenticate>[1]) => {
    await authenticate(ctx, request, 'subscribe', { allowQueryToken: true });
  };
  app.get<{ Querystring: StreamQuerystring }>(
    '/v1/stream',
    { onRequest, exposeHeadRoute: false },
    async (request, reply) => {
      const principal = principalOf(request);
      const rawClientId = request.headers[CLIENT_ID_HEADER];
      await openStream(ctx, request, reply, {
        principal,
        visibility: subscription(principal, request.query.topics),
        cursor: cursorOf(request, (raw) => ctx.store.parseId(raw), ctx.now()),
        cursorTime: cursorTimeOf(request),
        clientId: typeof rawClientId === 'string' && CLIENT_ID_PATTERN.test(rawClientId) ? rawClientId : null,
        format: ctx.sse,
        headers: corsHeaders(ctx, request),
      });
    },
  );
  // HEAD answers what GET would (authentication, headers) without opening a stream or taking a slot.
  app.head('/v1/stream', { onRequest }, async (request, reply) => {
    return reply
      .code(200)
      .headers({ 'content-type': ctx.sse.contentType, ...STREAM_HEADERS, ...corsHeaders(ctx, request) })
      .send();
  });
}
