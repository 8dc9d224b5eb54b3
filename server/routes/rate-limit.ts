import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';

/** Per-token publish rate limit (@fastify/rate-limit), checked after authentication. */
export function rateLimitFor(ctx: ServerContext) {
  return {
    max: ctx.config.publishRateLimit.max,
    timeWindow: ctx.config.publishRateLimit.windowMs,
    keyGenerator: (request: FastifyRequest) => request.principal?.tokenId ?? request.ip,
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; ttl: number }) =>
      new HttpProblem('rate-limited', `publish rate limit reached; retry in ${context.after}`, {
        retryAfter: Math.ceil(context.ttl / 1000),
      }),
  };
}
