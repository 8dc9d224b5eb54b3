import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HistoryResponse, Me } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { cursorOf } from '../cursor.ts';
import { subscription } from '../topics.ts';
import { parseInput } from '../validation.ts';
import { corsHeaders } from './cors.ts';

const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  topics: z.string().optional(),
  since: z.string().optional(),
});

export function registerHistoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/v1/alarms',
    {
      onRequest: async (request) => {
        await authenticate(ctx, request, 'subscribe');
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const query = parseInput(HistoryQuery, request.query, 'query');
      const visibility = subscription(principal, query.topics);
      // History pages from the oldest retained alarm unless a cursor says where to start.
      const cursor = cursorOf(request, (raw) => ctx.store.parseId(raw), ctx.now());
      const after =
        cursor.kind === 'after'
          ? cursor.id
          : cursor.kind === 'since-time'
            ? await ctx.store.cursorBefore(cursor.time)
            : null;
      const alarms = await ctx.store.read(after, visibility, query.limit);
      const last = alarms.at(-1);
      const body: HistoryResponse = {
        alarms,
        next: alarms.length === query.limit && last !== undefined ? last.id : null,
      };
      return reply.headers(corsHeaders(ctx, request)).send(body);
    },
  );

  app.get(
    '/v1/me',
    {
      onRequest: async (request) => {
        await authenticate(ctx, request, 'any');
      },
    },
    async (request): Promise<Me> => {
      const principal = principalOf(request);
      return {
        tokenId: principal.tokenId,
        user: principal.user,
        scope: principal.scope,
        topics: principal.topics === null ? null : [...principal.topics],
      };
    },
  );
}
