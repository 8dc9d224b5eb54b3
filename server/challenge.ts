/**
 * `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3). A request with no credentials gets the bare
 * challenge (no error code, §3.1); a bad token `invalid_token`; a token lacking the scope
 * `insufficient_scope` with the scope needed. Never a `Basic` challenge: it would make browsers pop
 * up a password dialog on a stream URL.
 */
export const BEARER_REALM = 'tocsin';

export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** A quoted-string per RFC 7230: backslash-escape `"` and `\`, drop what cannot appear. */
function quoted(value: string): string {
  // error_description must be printable ASCII without `"` and `\` (RFC 6750 §3): keep it so.
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '')}"`;
}

export function bearerChallenge(
  error?: BearerError,
  options: { description?: string; scope?: string } = {},
): string {
  const params = [`realm=${quoted(BEARER_REALM)}`];
  if (error !== undefined) params.push(`error=${quoted(error)}`);
  if (error !== undefined && options.description !== undefined)
    params.push(`error_description=${quoted(options.description)}`);
  if (options.scope !== undefined) params.push(`scope=${quoted(options.scope)}`);
  return `Bearer ${params.join(', ')}`;
}
