import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NAME_PATTERN } from '../../protocol/index.ts';
import { authenticate, principalOf } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { alarmToNtfy, type NtfyMessage, scheduledToNtfy } from '../ntfy/message.ts';
import { type NtfyParams, readNtfyParams } from '../ntfy/params.ts';
import { RESERVED_TOPICS } from '../ntfy/priority.ts';
import { ntfyPublishRequest } from '../ntfy/publish-input.ts';
import { HttpProblem } from '../problem.ts';
import { publishAlarm } from '../publish.ts';
import { parseInput } from '../validation.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** ntfy's JSON publish (https://docs.ntfy.sh/publish/#publish-as-json): `topic` in the body. */
const NtfyJsonPublish = z.object({
  topic: z.string().regex(NAME_PATTERN, 'topic: use 1-64 letters, digits, "_" or "-"'),
  message: z.string().optional(),
  title: z.string().optional(),
  priority: z.union([z.number().int(), z.string()]).optional(),
  tags: z.array(z.string()).optional(),
  click: z.string().optional(),
  attach: z.string().optional(),
  filename: z.string().optional(),
  icon: z.string().optional(),
  markdown: z.boolean().optional(),
  actions: z.array(z.unknown()).optional(),
  delay: z.string().optional(),
  email: z.string().optional(),
  call: z.string().optional(),
  cache: z.string().optional(),
  firebase: z.string().optional(),
  user: z.string().optional(),
});

function topicOf(request: FastifyRequest): string {
  const { topic } = request.params as { topic: string };
  if (!NAME_PATTERN.test(topic) || RESERVED_TOPICS.has(topic)) {
    throw new HttpProblem('not-found', `"/${topic}" is not a topic (use 1-64 letters, digits, "_" or "-")`);
  }
  return topic;
}

function bodyText(request: FastifyRequest): string {
  if (!Buffer.isBuffer(request.body)) return '';
  try {
    return utf8.decode(request.body);
  } catch {
    // ntfy would store a binary body as an uploaded attachment.
    throw new HttpProblem(
      'unsupported-feature',
      'the body is not UTF-8 text, and file uploads are not offered by this server (attach by URL with Attach: <url>)',
    );
  }
}

/**
 * ntfy's publish API (https://docs.ntfy.sh/publish/), so tools that post to ntfy work unchanged:
 * `PUT|POST /{topic}` with the message as the body, `GET /{topic}/publish|send|trigger`, and JSON to
 * `PUT|POST /`; fields from headers (with ntfy's aliases) or query parameters.
 */
export async function registerNtfyRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // Own encapsulated context: whatever the content type (curl -d sends form-urlencoded), the body is the message.
  await app.register(async (ntfy) => {
    ntfy.removeAllContentTypeParsers();
    ntfy.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    const onRequest = async (request: FastifyRequest) => {
      await authenticate(ctx, request, 'publish');
    };

    const publish = async (request: FastifyRequest, topic: string, params: NtfyParams, body: string) => {
      const input = ntfyPublishRequest(topic, params, body, ctx.now());
      const published = await publishAlarm(ctx, principalOf(request), input, 'ntfy');
      const expiresAfter = ctx.config.retention.maxAgeMs;
      const message: NtfyMessage =
        published.kind === 'stored'
          ? alarmToNtfy(published.alarm, expiresAfter)
          : scheduledToNtfy(published.scheduled, expiresAfter);
      return message;
    };

    ntfy.route({
      method: ['POST', 'PUT'],
      url: '/:topic',
      bodyLimit: ctx.config.maxMessageBytes,
      onRequest,
      handler: async (request) =>
        publish(
          request,
          topicOf(request),
          readNtfyParams(request.headers, request.query as Record<string, unknown>),
          bodyText(request),
        ),
    });

    for (const verb of ['publish', 'send', 'trigger']) {
      ntfy.get(`/:topic/${verb}`, { onRequest }, async (request) =>
        publish(
          request,
          topicOf(request),
          readNtfyParams(request.headers, request.query as Record<string, unknown>),
          '',
        ),
      );
    }

    ntfy.route({
      method: ['POST', 'PUT'],
      url: '/',
      // ntfy allows twice the message size for the JSON envelope.
      bodyLimit: 2 * ctx.config.maxMessageBytes,
      onRequest,
      handler: async (request) => {
        let json: unknown;
        try {
          json = JSON.parse(bodyText(request));
        } catch {
          throw new HttpProblem('bad-request', 'POST / takes a JSON message with a "topic" field');
        }
        const body = parseInput(NtfyJsonPublish, json, 'ntfy JSON message');
        const params: NtfyParams = {
          ...(body.title !== undefined && body.title !== '' && { title: body.title }),
          ...(body.priority !== undefined && body.priority !== 0 && { priority: String(body.priority) }),
          ...(body.tags !== undefined && body.tags.length > 0 && { tags: body.tags.join(',') }),
          ...(body.click !== undefined && body.click !== '' && { click: body.click }),
          ...(body.attach !== undefined && body.attach !== '' && { attach: body.attach }),
          ...(body.filename !== undefined && body.filename !== '' && { filename: body.filename }),
          ...(body.icon !== undefined && body.icon !== '' && { icon: body.icon }),
          ...(body.markdown === true && { markdown: 'yes' }),
          ...(body.actions !== undefined &&
            body.actions.length > 0 && { actions: JSON.stringify(body.actions) }),
          ...(body.delay !== undefined && body.delay !== '' && { delay: body.delay }),
          ...(body.email !== undefined && body.email !== '' && { email: body.email }),
          ...(body.call !== undefined && body.call !== '' && { call: body.call }),
          ...(body.cache !== undefined && body.cache !== '' && { cache: body.cache }),
          ...(body.user !== undefined && body.user !== '' && { user: body.user }),
        };
        return publish(request, body.topic, params, body.message ?? '');
      },
    });
  });
}
