import type { Alarm, PublishRequest, ScheduledAlarm } from '../protocol/index.ts';
import type { ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';
import { type NewAlarm, StoreError } from './store/store.ts';
import { mayAddress, mayUseTopic, type Principal } from './tokens.ts';

export type Dialect = 'json' | 'ntfy';

export type Published =
  | { readonly kind: 'stored'; readonly alarm: Alarm }
  | { readonly kind: 'scheduled'; readonly scheduled: ScheduledAlarm };

/**
 * Checks who may send what, then stores the alarm (or schedules it when `deliverAt` is set).
 * Resolves only once it is durable; the store fans it out to subscribers after that, so every
 * acknowledged alarm is replayable.
 */
export async function publishAlarm(
  ctx: ServerContext,
  principal: Principal,
  request: PublishRequest,
  dialect: Dialect,
): Promise<Published> {
  if (request.body !== undefined && Buffer.byteLength(request.body) > ctx.config.maxMessageBytes) {
    throw new HttpProblem(
      'payload-too-large',
      `the message body is over ${ctx.config.maxMessageBytes} bytes`,
    );
  }
  if (request.topic !== undefined && !mayUseTopic(principal, request.topic)) {
    throw new HttpProblem('forbidden', `this token may not publish to topic "${request.topic}"`);
  }
  if (request.user !== undefined && !mayAddress(principal, request.user)) {
    throw new HttpProblem(
      'forbidden',
      principal.recipients === null
        ? 'only an admin token, or one created with --recipients, may send alarms to another user'
        : `this token may not send alarms to user "${request.user}"`,
    );
  }
  const { deliverAt } = request;
  // Field by field, absent rather than undefined: this runs for every alarm, and spreads of
  // conditional objects allocate one temporary per field.
  const alarm: NewAlarm = { title: request.title, priority: request.priority, tags: request.tags };
  if (request.user !== undefined) alarm.user = request.user;
  if (request.topic !== undefined) alarm.topic = request.topic;
  if (request.body !== undefined) alarm.body = request.body;
  if (request.url !== undefined) alarm.url = request.url;
  if (request.icon !== undefined) alarm.icon = request.icon;
  if (request.markdown === true) alarm.markdown = true;
  if (request.actions !== undefined && request.actions.length > 0) alarm.actions = request.actions;
  if (request.attachment !== undefined) alarm.attachment = request.attachment;
  try {
    if (deliverAt !== undefined) {
      const now = ctx.now();
      checkDelay(ctx, deliverAt, now);
      const scheduled = await ctx.store.schedule(alarm, deliverAt, now);
      ctx.metrics.published[dialect].inc();
      return { kind: 'scheduled', scheduled };
    }
    const stored = await ctx.store.append(alarm);
    ctx.metrics.published[dialect].inc();
    return { kind: 'stored', alarm: stored };
  } catch (error) {
    if (error instanceof StoreError) {
      throw new HttpProblem('unavailable', 'the alarm could not be stored; it was not accepted', {
        retryAfter: 5,
      });
    }
    throw error;
  }
}

/** ntfy's bounds on a delivery time, compared in whole seconds as ntfy does. */
function checkDelay(ctx: ServerContext, deliverAt: number, now: number): void {
  const { minDelayMs, maxDelayMs } = ctx.config.scheduling;
  const at = Math.floor(deliverAt / 1000);
  if (at < Math.floor((now + minDelayMs) / 1000)) {
    throw new HttpProblem(
      'bad-request',
      `the delivery time is too soon: at least ${minDelayMs / 1000} s from now`,
      { errors: [{ path: 'delay', message: 'too small' }] },
    );
  }
  if (at > Math.floor((now + maxDelayMs) / 1000)) {
    throw new HttpProblem(
      'bad-request',
      `the delivery time is too far ahead: at most ${maxDelayMs / 1000} s from now`,
      { errors: [{ path: 'delay', message: 'too large' }] },
    );
  }
}
