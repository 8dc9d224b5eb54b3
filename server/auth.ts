import type { FastifyRequest } from 'fastify';
import type { Scope } from '../protocol/index.ts';
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
  let presented = presentedToken(request.headers.authorization);
  if (presented === null && options.allowQueryToken === true) {
    const query = request.query as Record<string, unknown>;
    if (typeof query.access_token === 'string') presented = query.access_token;
  }
  if (presented === null) {
    throw new HttpProblem('unauthorized', 'send Authorization: Bearer <token>');
  }
  const principal = await verifyToken(ctx.tokens, presented);
  if (principal === null) throw new HttpProblem('unauthorized', 'the token is unknown, malformed or revoked');
  if (scope !== 'any' && !hasScope(principal, scope)) {
    throw new HttpProblem('forbidden', `this token has scope "${principal.scope}", "${scope}" is needed`);
  }
  request.principal = principal;
  return principal;
}

/** The principal set by an earlier `authenticate` hook on this route. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem('unauthorized');
  return request.principal;
}
