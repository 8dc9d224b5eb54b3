import type { Alarm, PublishRequest } from '../protocol/index.ts';
import type { ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';
import { StoreError } from './store/store.ts';
import { mayUseTopic, type Principal } from './tokens.ts';

export type Dialect = 'json' | 'ntfy';

/**
 * Checks who may send what, then stores the alarm. Resolves only once it is durable; the store fans
 * it out to subscribers after that, so every acknowledged alarm is replayable.
 */
export async function publishAlarm(
  ctx: ServerContext,
  principal: Principal,
  request: PublishRequest,
  dialect: Dialect,
): Promise<Alarm> {
  if (request.body !== undefined && Buffer.byteLength(request.body) > ctx.config.maxMessageBytes) {
    throw new HttpProblem(
      'payload-too-large',
      `the message body is over ${ctx.config.maxMessageBytes} bytes`,
    );
  }
  if (request.topic !== undefined && !mayUseTopic(principal, request.topic)) {
    throw new HttpProblem('forbidden', `this token may not publish to topic "${request.topic}"`);
  }
  if (request.user !== undefined && request.user !== principal.user && principal.scope !== 'admin') {
    throw new HttpProblem('forbidden', 'only an admin token may send alarms to another user');
  }
  try {
    const alarm = await ctx.store.append({
      ...(request.user !== undefined && { user: request.user }),
      ...(request.topic !== undefined && { topic: request.topic }),
      title: request.title,
      ...(request.body !== undefined && { body: request.body }),
      priority: request.priority,
      ...(request.url !== undefined && { url: request.url }),
      tags: request.tags,
    });
    ctx.metrics.alarmsPublished.inc({ dialect });
    return alarm;
  } catch (error) {
    if (error instanceof StoreError) {
      throw new HttpProblem('unavailable', 'the alarm could not be stored; it was not accepted', {
        retryAfter: 5,
      });
    }
    throw error;
  }
}
