import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';
import { leasedRedisRateStore } from './rate-limit-store.ts';

/**
 * Per-token publish rate limit (@fastify/rate-limit), checked after authentication. Registered once
 * in the context holding every publish route, so both dialects draw on one budget per token. In
 * scale-out mode it counts in Redis (rate-limit-store.ts), one budget across every instance.
 */
export async function registerPublishRateLimit(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const redis = ctx.limits.redis;
  await app.register(rateLimit, {
    ...(redis !== undefined && {
      store: leasedRedisRateStore(redis, 'tocsin:publish-rate:'),
      // Redis away: the store refuses the publish with a 503 anyway; no 500 from the limiter.
      skipOnError: true,
    }),
    global: true,
    hook: 'preHandler',
    max: ctx.config.publishRateLimit.max,
    timeWindow: ctx.config.publishRateLimit.windowMs,
    keyGenerator: (request: FastifyRequest) => request.principal?.tokenId ?? request.ip,
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; ttl: number }) =>
      new HttpProblem('rate-limited', `publish rate limit reached; retry in ${context.after}`, {
        retryAfter: Math.ceil(context.ttl / 1000),
      }),
  });
}
