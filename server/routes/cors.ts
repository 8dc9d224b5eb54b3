import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CLIENT_ID_HEADER, CURSOR_TIME_HEADER } from '../../protocol/index.ts';
import type { ServerContext } from '../context.ts';
import { NTFY_PARAMS } from '../ntfy/params.ts';

/**
 * CORS for the origins given with `--allow-origin`. Hand-written rather than @fastify/cors: the
 * stream routes hijack their reply and write the head themselves, so the same policy must be
 * callable outside Fastify's hooks (`corsHeaders`), and one pure function keeps both paths equal.
 */

/** Request headers a browser may send cross-origin (listed: `*` would not cover Authorization). */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  ...new Set([
    'authorization',
    'content-type',
    'last-event-id',
    // event-source-polyfill and some XHR wrappers send these on every request.
    'cache-control',
    'x-requested-with',
    CLIENT_ID_HEADER,
    CURSOR_TIME_HEADER,
    ...Object.values(NTFY_PARAMS).flat(),
  ]),
];

/** Response headers a cross-origin script needs to read to act on an answer (beyond the safelisted). */
export const CORS_EXPOSED_HEADERS: readonly string[] = [
  'retry-after',
  'www-authenticate',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

export const CORS_ALLOWED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT'];

/** How long a browser may cache a preflight answer (Chromium caps it at 7200 s). */
export const CORS_MAX_AGE_S = 600;

/**
 * The CORS headers of an actual (non-preflight) response to a request from `origin`.
 * `*` answers any origin with a literal `*` and never allows credentials (the Fetch standard forbids
 * the pair); listed origins are echoed back with `Access-Control-Allow-Credentials: true`, so an
 * EventSource opened `withCredentials` works too. Tocsin sets no cookies: the token is the credential.
 */
export function corsResponseHeaders(
  allowedOrigins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  if (allowedOrigins.length === 0) return {};
  if (allowedOrigins.includes('*')) {
    if (origin === undefined) return {};
    return {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    };
  }
  // The answer depends on Origin: caches must key on it, whether or not this origin is allowed.
  if (origin === undefined || !allowedOrigins.includes(origin)) return { vary: 'Origin' };
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    vary: 'Origin',
  };
}

/** The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) from `origin`. */
export function corsPreflightHeaders(
  allowedOrigins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  const base = corsResponseHeaders(allowedOrigins, origin);
  if (base['access-control-allow-origin'] === undefined) return base;
  return {
    ...base,
    'access-control-allow-methods': CORS_ALLOWED_METHODS.join(', '),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_S),
  };
}

/** The CORS headers for this request's response: what a hijacked stream must write itself. */
export function corsHeaders(ctx: ServerContext, request: FastifyRequest): Record<string, string> {
  return corsResponseHeaders(ctx.config.allowedOrigins, request.headers.origin);
}

/**
 * Every response gets its CORS headers before any route hook runs, so a 401 from authentication, a
 * 429, a 404 or a 5xx reaches the page readable (a browser can tell "bad token" from "server down");
 * and every path answers preflights.
 */
export function registerCors(app: FastifyInstance, ctx: ServerContext): void {
  if (ctx.config.allowedOrigins.length === 0) return;
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(corsHeaders(ctx, request));
  });
  app.options('*', async (request, reply) => {
    const preflight = corsPreflightHeaders(ctx.config.allowedOrigins, request.headers.origin);
    return reply.headers(preflight).code(204).send();
  });
}
