import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';

/** CORS for read-only GETs from allowed web origins (a browser's EventSource, a web dashboard). */
export function corsHeaders(ctx: ServerContext, request: FastifyRequest): Record<string, string> {
  const origin = request.headers.origin;
  if (origin === undefined) return {};
  const allowed = ctx.config.allowedOrigins;
  if (!allowed.includes('*') && !allowed.includes(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}
