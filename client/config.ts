import { z } from 'zod';
import { formatValidationError, Name } from '../protocol/index.ts';
import { DEFAULT_RECONNECT } from './backoff.ts';
import { AgentError } from './errors.ts';
import { DEFAULT_DRIFT } from './power.ts';

const HttpOrigin = z
  .string()
  .min(1)
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL (try http://host:port)` });
      return z.NEVER;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `"${value}" must be an http:// or https:// URL` });
      return z.NEVER;
    }
    // A base may carry a path prefix (a server behind a reverse proxy at /tocsin/): keep it, end it in "/".
    url.search = '';
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url.href;
  });

/** Everything the agent can be told. Validated once, at the edge, by `parseAgentConfig`. */
export const AgentConfig = z
  .object({
    /** The server's base URL, e.g. http://127.0.0.1:8080. */
    server: HttpOrigin,
    token: z.string().min(1, 'a token is required'),
    /**
     * Topics to subscribe to; empty: the server's default (the token's own topics). ['*']: every topic
     * the token may read. The token's user's own alarms always come too.
     */
    topics: z
      .array(z.union([Name, z.literal('*')]))
      .refine((topics) => !topics.includes('*') || topics.length === 1, '"*" (every topic) stands alone')
      .default([]),
    backoff: z
      .object({
        baseMs: z.number().int().min(1).default(DEFAULT_RECONNECT.baseMs),
        capMs: z.number().int().min(1).default(DEFAULT_RECONNECT.capMs),
      })
      .default(DEFAULT_RECONNECT),
    /** How long to wait for response headers: a black-holed SYN or a mute proxy costs no more. */
    connectTimeoutMs: z.number().int().min(1).default(5_000),
    /** Silence allowed between the response headers and `ready` (the replay). */
    replayTimeoutMs: z.number().int().min(1).default(20_000),
    /**
     * What the very first connection (no saved position) asks to see from before: a `since` value
     * (`24h`, `10m`, `all`), or `none` for live only. It is shown as history, summarised.
     */
    initialReplay: z
      .string()
      .regex(/^(?:all|none|[0-9]{1,9}[smhd])$/, 'use a duration like 30m, 24h, 7d, or "all" or "none"')
      .default('24h'),
    /** How many recent alarm ids are remembered for de-duplication. */
    dedupCapacity: z.number().int().min(1).default(2_000),
    /** Sleep detection by timer drift; false turns it off (when the shell has reliable power events). */
    sleepDetection: z
      .union([
        z.literal(false),
        z.object({
          intervalMs: z.number().int().min(1).default(DEFAULT_DRIFT.intervalMs),
          thresholdMs: z.number().int().min(1).default(DEFAULT_DRIFT.thresholdMs),
        }),
      ])
      .default(DEFAULT_DRIFT),
  })
  .strict();

export type AgentConfigInput = z.input<typeof AgentConfig>;
export type AgentConfig = z.output<typeof AgentConfig>;

export function parseAgentConfig(input: AgentConfigInput): AgentConfig {
  const result = AgentConfig.safeParse(input);
  if (!result.success) {
    throw new AgentError(
      'invalid-config',
      `invalid agent configuration: ${formatValidationError(result.error)}`,
    );
  }
  return result.data;
}

/** The server's origin: the keychain account and the key of the cursor file. */
export function serverOrigin(server: string): string {
  return new URL(server).origin;
}
