import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';

export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  /** Readiness: 200 while the store can take alarms, 503 otherwise (load balancers route around it). */
  app.get('/healthz', async (_request, reply) => {
    const health = ctx.store.health();
    const body = {
      status: health.ready ? 'ok' : 'unavailable',
      store: ctx.store.kind,
      streams: ctx.registry.size,
    };
    if (!health.ready) return reply.code(503).send({ ...body, reason: health.reason });
    return body;
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
