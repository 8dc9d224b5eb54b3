import type { FastifyRequest } from 'fastify';
import type { Scope } from '../protocol/index.ts';
import { bearerChallenge } from './challenge.ts';
import type { ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';
import { hasScope, type Principal, presentedToken, verifyToken } from './tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Resolves the request's token to a principal with the needed scope ('any': just a valid token),
 * or throws 401/403.
 * `allowQueryToken`: browsers' EventSource cannot send headers, so streams also accept
 * `?access_token=` (RFC 6750 §2.3); nothing else does, to keep tokens out of URLs.
 */
export async function authenticate(
  ctx: ServerContext,
  request: FastifyRequest,
  scope: Scope | 'any',
  options: { allowQueryToken?: boolean } = {},
): Promise<Principal> {
  let presented = presentedToken(authorizationOf(request));
  if (presented === null && options.allowQueryToken === true) {
    const query = request.query as Record<string, unknown>;
    if (typeof query.access_token === 'string') presented = query.access_token;
  }
  if (presented === null) {
    throw new HttpProblem('unauthorized', 'send Authorization: Bearer <token> (or Basic, or ?auth=)', {
      challenge: bearerChallenge(),
    });
  }
  const principal = await verifyToken(ctx.tokens, presented);
  if (principal === null) {
    const detail = 'the token is unknown, malformed or revoked';
    throw new HttpProblem('unauthorized', detail, {
      challenge: bearerChallenge('invalid_token', { description: detail }),
    });
  }
  if (scope !== 'any' && !hasScope(principal, scope)) {
    throw new HttpProblem('forbidden', `this token has scope "${principal.scope}", "${scope}" is needed`, {
      challenge: bearerChallenge('insufficient_scope', { scope }),
    });
  }
  request.principal = principal;
  return principal;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * The request's Authorization value: ntfy's `?auth=` (or `?authorization=`) when present, which is
 * the whole header value base64-encoded (URL or standard alphabet, padding optional) for clients
 * that cannot send headers (browsers' EventSource and WebSocket, some webhooks); else the header.
 */
function authorizationOf(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const raw = [query?.auth, query?.authorization].find((v) => typeof v === 'string' && v.trim() !== '');
  if (typeof raw !== 'string') return request.headers.authorization;
  const value = raw.trim();
  if (!BASE64.test(value)) {
    throw new HttpProblem('unauthorized', '?auth= must be the base64 of an Authorization header value');
  }
  return Buffer.from(value, 'base64').toString('utf8').trim();
}

/** The principal set by an earlier `authenticate` hook on this route. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem('unauthorized');
  return request.principal;
}
