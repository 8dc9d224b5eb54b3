import type { FastifyServerOptions } from 'fastify';
import { stdSerializers } from 'pino';

/** Anything shaped like a Tocsin token (see tokens.ts), wherever it appears in a logged string. */
const TOKEN_TEXT = /tcs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/g;
const REDACTED = '[redacted]';

function scrub(text: string): string {
  return text.replace(TOKEN_TEXT, `tcs_${REDACTED}`);
}

/** A URL with its query string's secrets (`access_token`, ntfy's `auth`) and any token text removed. */
export function redactUrl(url: string): string {
  return scrub(url).replace(/([?&](?:access_token|auth)=)[^&#]*/gi, `$1${REDACTED}`);
}

/**
 * Errors as pino logs them, minus what can carry credentials: Node's HTTP parser errors keep the
 * raw request bytes (`rawPacket`, Authorization header included) and pino would print them as a
 * byte array at trace level; messages and stacks may quote a token.
 */
function err(error: Error): { [key: string]: unknown; type: string; message: string; stack: string } {
  const serialized = { ...stdSerializers.err(error) };
  delete serialized.rawPacket;
  for (const key of ['message', 'stack', 'detail']) {
    if (typeof serialized[key] === 'string') serialized[key] = scrub(serialized[key] as string);
  }
  return serialized;
}

/** Request fields worth logging; never headers (Authorization) and never the raw query string. */
function req(request: { method?: string; url?: string; id?: unknown }): {
  [key: string]: unknown;
  method: string;
  url: string;
} {
  return { id: request.id, method: request.method ?? '', url: redactUrl(request.url ?? '') };
}

/**
 * Logger options that keep tokens out of the log at every level, trace included: serializers for
 * what Fastify and we log, and pino's redaction for any header object that slips into a line.
 */
export const redactingLoggerOptions = {
  serializers: { err, req },
  redact: {
    paths: [
      'headers.authorization',
      'req.headers.authorization',
      'request.headers.authorization',
      'err.rawPacket',
      '*.rawPacket',
    ],
    censor: REDACTED,
  },
} satisfies Partial<Extract<FastifyServerOptions['logger'], object>>;
