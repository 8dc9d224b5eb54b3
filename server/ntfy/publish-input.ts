import { PublishRequest } from '../../protocol/index.ts';
import { HttpProblem } from '../problem.ts';
import { parseInput } from '../validation.ts';
import { NtfyActionsError, parseNtfyActions } from './actions.ts';
import { parseFutureTime } from './future-time.ts';
import { type NtfyParams, ntfyBool } from './params.ts';
import { ntfyPriority, ntfyTags } from './priority.ts';

/** ntfy's text for an empty message, and for an attachment sent without one. */
export const EMPTY_MESSAGE = 'triggered';

/**
 * One ntfy publish (fields from headers, query or a JSON body; the message body as text) as a Tocsin
 * publish request, with every rule ntfy applies (server.go: parsePublishParams, handlePublishBody).
 * What Tocsin does not offer (e-mail, phone calls, uploads, templates) is refused with a problem
 * naming it, so nothing half-understood is ever stored.
 */
export function ntfyPublishRequest(
  topic: string,
  params: NtfyParams,
  body: string,
  now: number,
): PublishRequest {
  if (params.email !== undefined) {
    throw new HttpProblem(
      'unsupported-feature',
      'e-mail notifications (Email) are not offered by this server; nothing was stored',
    );
  }
  if (params.call !== undefined) {
    throw new HttpProblem(
      'unsupported-feature',
      'phone calls (Call) are not offered by this server; nothing was stored',
    );
  }
  if (ntfyBool(params.template, false)) {
    throw new HttpProblem(
      'unsupported-feature',
      'message templates (Template) are not offered by this server; nothing was stored',
    );
  }
  const priority = ntfyPriority(params.priority);
  if (priority === null) {
    throw new HttpProblem('bad-request', 'Priority must be 1-5 or min, low, default, high, max, urgent', {
      errors: [{ path: 'priority', message: 'not a priority' }],
    });
  }

  let attachment: { url: string; name: string } | undefined;
  if (params.attach !== undefined) {
    if (!/^https?:\/\//.test(params.attach)) {
      throw new HttpProblem('bad-request', 'Attach must be an http(s) URL', {
        errors: [{ path: 'attach', message: 'not an http(s) URL' }],
      });
    }
    attachment = { url: params.attach, name: params.filename ?? attachmentName(params.attach) };
  } else if (params.filename !== undefined && body !== '') {
    throw new HttpProblem(
      'unsupported-feature',
      'file uploads are not offered by this server; attach a file by URL with Attach: <url>',
    );
  }

  let message = body.trim();
  if (message === '' && params.message !== undefined) message = params.message.replaceAll('\\n', '\n');
  if (message === '' && attachment !== undefined) message = `You received a file: ${attachment.name}`;
  if (message === '') message = EMPTY_MESSAGE;

  let actions: unknown;
  if (params.actions !== undefined) {
    try {
      actions = parseNtfyActions(params.actions);
    } catch (error) {
      if (!(error instanceof NtfyActionsError)) throw error;
      throw new HttpProblem('bad-request', `invalid Actions: ${error.message}`, {
        errors: [{ path: 'actions', message: error.message }],
      });
    }
  }

  let deliverAt: number | undefined;
  if (params.delay !== undefined) {
    if (params.cache !== undefined && !ntfyBool(params.cache, true)) {
      throw new HttpProblem('bad-request', 'a scheduled message cannot have Cache: no');
    }
    const at = parseFutureTime(params.delay, now);
    if (at === null) {
      throw new HttpProblem(
        'bad-request',
        `cannot read the delivery time "${params.delay.slice(0, 64)}": use a unix timestamp, a duration (30m, 3h, 2 days) or a time (tomorrow 10am)`,
        { errors: [{ path: 'delay', message: 'cannot parse' }] },
      );
    }
    deliverAt = at;
  }

  const title = params.title;
  const markdown =
    ntfyBool(params.markdown, false) || params.contentType?.toLowerCase().startsWith('text/markdown');
  return parseInput(
    PublishRequest,
    {
      topic,
      ...(params.user !== undefined && { user: params.user }),
      title: title ?? topic,
      body: message,
      priority,
      tags: ntfyTags(params.tags),
      ...(params.click !== undefined && { url: params.click }),
      ...(params.icon !== undefined && { icon: params.icon }),
      ...(markdown === true && { markdown: true }),
      ...(actions !== undefined && { actions }),
      ...(attachment !== undefined && { attachment }),
      ...(deliverAt !== undefined && { deliverAt }),
    },
    'ntfy message',
  );
}

/** ntfy names an attachment after its URL's last path segment, else "attachment". */
function attachmentName(url: string): string {
  try {
    const last = decodeURIComponent(new URL(url).pathname.split('/').at(-1) ?? '');
    return last === '' || last === '.' ? 'attachment' : last.slice(0, 256);
  } catch {
    return 'attachment';
  }
}
