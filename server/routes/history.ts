import { Readable } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Alarm, Me } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import { ConcurrencyGate } from '../concurrency-gate.ts';
import type { ServerContext } from '../context.ts';
import { cursorOf } from '../cursor.ts';
import { HttpProblem } from '../problem.ts';
import type { Visibility } from '../store/store.ts';
import { subscription } from '../topics.ts';
import { parseInput } from '../validation.ts';
import { corsHeaders } from './cors.ts';

export const MAX_HISTORY_LIMIT = 1000;
/** Alarms read from the store and serialised at a time: the memory one response holds. */
const HISTORY_PAGE = 100;

const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_LIMIT).default(100),
  topics: z.string().optional(),
  since: z.string().optional(),
});

/**
 * The `{"alarms":[…],"next":…}` body, written page by page: Fastify pipes it with backpressure,
 * so a large history or a client that reads slowly holds one page in memory, not the whole answer.
 * The first page is read before the status line goes out, so a store failure is still a 503.
 */
function historyBody(ctx: ServerContext, first: Alarm[], visibility: Visibility, limit: number): Readable {
  async function* chunks(): AsyncGenerator<string> {
    let page = first;
    let requested = Math.min(HISTORY_PAGE, limit);
    let sent = 0;
    let last: string | null = null;
    yield '{"alarms":[';
    for (;;) {
      if (page.length > 0) {
        yield (sent === 0 ? '' : ',') + page.map((alarm) => JSON.stringify(alarm)).join(',');
        sent += page.length;
        last = (page.at(-1) as Alarm).id;
      }
      // A short page means the store has nothing more for this reader.
      if (page.length < requested || sent >= limit) break;
      requested = Math.min(HISTORY_PAGE, limit - sent);
      page = await ctx.store.read(last, visibility, requested);
    }
    yield `],"next":${sent === limit && last !== null ? JSON.stringify(last) : 'null'}}`;
  }
  return Readable.from(chunks(), { objectMode: false });
}

export async function registerHistoryRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { historyRateLimit, historyConcurrency } = ctx.config;
  // Per token, on history only (its own context): a subscribe token cannot starve publishers.
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    keyGenerator: (request: FastifyRequest) => request.principal?.tokenId ?? request.ip,
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; ttl: number }) =>
      new HttpProblem('rate-limited', `history rate limit reached; retry in ${context.after}`, {
        retryAfter: Math.ceil(context.ttl / 1000),
      }),
  });
  const gate = new ConcurrencyGate(historyConcurrency);

  app.get(
    '/v1/alarms',
    {
      config: { rateLimit: { max: historyRateLimit.max, timeWindow: historyRateLimit.windowMs } },
      onRequest: async (request) => {
        await authenticate(ctx, request, 'subscribe');
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const query = parseInput(HistoryQuery, request.query, 'query');
      const visibility = subscription(principal, query.topics);
      // Parsed (400 for a bad cursor) before taking a slot; every store read happens inside one.
      const cursor = cursorOf(request, (raw) => ctx.store.parseId(raw), ctx.now());
      const entered = gate.enter(principal.tokenId);
      if ('refused' in entered) {
        throw entered.refused === 'key'
          ? new HttpProblem(
              'rate-limited',
              `at most ${historyConcurrency.perKey} history requests at once per token`,
              { retryAfter: 1 },
            )
          : new HttpProblem('unavailable', 'too many history requests at once; retry shortly', {
              retryAfter: 1,
            });
      }
      // Released when the response ends or the client goes away, whichever comes first.
      reply.raw.once('close', entered.release);
      try {
        // History pages from the oldest retained alarm unless a cursor says where to start.
        const after =
          cursor.kind === 'after'
            ? cursor.id
            : cursor.kind === 'since-time'
              ? await ctx.store.cursorBefore(cursor.time)
              : null;
        const first = await ctx.store.read(after, visibility, Math.min(HISTORY_PAGE, query.limit));
        const body = historyBody(ctx, first, visibility, query.limit);
        return reply.headers(corsHeaders(ctx, request)).type('application/json; charset=utf-8').send(body);
      } catch (error) {
        entered.release();
        throw error;
      }
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
