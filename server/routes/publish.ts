import type { FastifyInstance } from 'fastify';
import { PublishRequest, type PublishResponse } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { publishAlarm } from '../publish.ts';
import { parseInput } from '../validation.ts';

/** JSON overhead allowed on top of the message cap (title, tags, url, field names). */
const JSON_ENVELOPE_BYTES = 8 * 1024;

export function registerPublishRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/v1/alarms',
    {
      bodyLimit: ctx.config.maxMessageBytes + JSON_ENVELOPE_BYTES,
      onRequest: async (request) => {
        await authenticate(ctx, request, 'publish');
      },
    },
    async (request, reply) => {
      const type = request.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(type)) {
        throw new HttpProblem('unsupported-media-type', 'send the alarm as application/json');
      }
      const input = parseInput(PublishRequest, request.body, 'alarm');
      const published = await publishAlarm(ctx, principalOf(request), input, 'json');
      if (published.kind === 'scheduled') {
        const { id, deliverAt } = published.scheduled;
        const response: PublishResponse = { id, time: deliverAt, scheduled: true };
        return reply.code(202).send(response);
      }
      const { alarm } = published;
      const response: PublishResponse = { id: alarm.id, time: alarm.time };
      return reply.code(201).header('location', `/v1/alarms/${alarm.id}`).send(response);
    },
  );
}
