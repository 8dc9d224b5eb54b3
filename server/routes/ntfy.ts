import type { FastifyInstance } from 'fastify';
import { NAME_PATTERN, PublishRequest } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { NTFY_HEADERS, ntfyHeader, ntfyPriority, ntfyTags, RESERVED_TOPICS } from '../ntfy.ts';
import { HttpProblem } from '../problem.ts';
import { publishAlarm } from '../publish.ts';
import { parseInput } from '../validation.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `POST|PUT /{topic}` with the message as the body, as ntfy and the tools built for it do it. */
export async function registerNtfyRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // Own encapsulated context: whatever the content type (curl -d sends form-urlencoded), the body is the message.
  await app.register(async (ntfy) => {
    ntfy.removeAllContentTypeParsers();
    ntfy.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    ntfy.route({
      method: ['POST', 'PUT'],
      url: '/:topic',
      bodyLimit: ctx.config.maxMessageBytes,
      onRequest: async (request) => {
        await authenticate(ctx, request, 'publish');
      },
      handler: async (request) => {
        const { topic } = request.params as { topic: string };
        if (!NAME_PATTERN.test(topic) || RESERVED_TOPICS.has(topic)) {
          throw new HttpProblem(
            'not-found',
            `"/${topic}" is not a topic (use 1-64 letters, digits, "_" or "-")`,
          );
        }
        let message: string;
        try {
          message = Buffer.isBuffer(request.body) ? utf8.decode(request.body) : '';
        } catch {
          throw new HttpProblem('bad-request', 'the message must be UTF-8 text');
        }
        if (message.trim() === '') message = 'triggered'; // ntfy's default for an empty body
        const headers = request.headers;
        const priority = ntfyPriority(ntfyHeader(headers, NTFY_HEADERS.priority));
        if (priority === null) {
          throw new HttpProblem('bad-request', 'Priority must be 1-5 or min, low, default, high, urgent', {
            errors: [{ path: 'Priority', message: 'not a priority' }],
          });
        }
        const title = ntfyHeader(headers, NTFY_HEADERS.title);
        const click = ntfyHeader(headers, NTFY_HEADERS.click);
        const input = parseInput(
          PublishRequest,
          {
            topic,
            title: title !== undefined && title.trim() !== '' ? title : topic,
            body: message,
            priority,
            tags: ntfyTags(ntfyHeader(headers, NTFY_HEADERS.tags)),
            ...(click !== undefined && { url: click }),
          },
          'ntfy message',
        );
        const alarm = await publishAlarm(ctx, principalOf(request), input, 'ntfy');
        // ntfy's answer shape: time in seconds, the message echoed.
        return {
          id: alarm.id,
          time: Math.floor(alarm.time / 1000),
          event: 'message',
          topic,
          message,
          ...(title !== undefined && { title: alarm.title }),
          priority: alarm.priority,
          ...(alarm.tags.length > 0 && { tags: alarm.tags }),
          ...(alarm.url !== undefined && { click: alarm.url }),
        };
      },
    });
  });
}
