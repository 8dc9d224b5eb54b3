import { decodeHeaderText } from './header-text.ts';

/**
 * ntfy reads every publish field from a header (several aliases, `X-` first) or, when no header has
 * it, from the query parameter of the same names (server/util.go: readParam). The alias lists are
 * ntfy's own (server/server.go: parsePublishParams).
 */
export const NTFY_PARAMS = {
  title: ['x-title', 'title', 't'],
  message: ['x-message', 'message', 'm'],
  priority: ['x-priority', 'priority', 'prio', 'p'],
  tags: ['x-tags', 'tags', 'tag', 'ta'],
  click: ['x-click', 'click'],
  icon: ['x-icon', 'icon'],
  attach: ['x-attach', 'attach', 'a'],
  filename: ['x-filename', 'filename', 'file', 'f'],
  actions: ['x-actions', 'actions', 'action'],
  markdown: ['x-markdown', 'markdown', 'md'],
  contentType: ['content-type', 'content_type'],
  delay: ['x-delay', 'delay', 'x-at', 'at', 'x-in', 'in'],
  email: ['x-email', 'x-e-mail', 'email', 'e-mail', 'mail', 'e'],
  call: ['x-call', 'call'],
  cache: ['x-cache', 'cache'],
  firebase: ['x-firebase', 'firebase'],
  template: ['x-template', 'template', 'tpl'],
  pollId: ['x-poll-id', 'poll-id'],
  /** Tocsin's extension: address the alarm to one user (needs admin or a --recipients token). */
  user: ['x-user', 'user'],
} as const;

export type NtfyField = keyof typeof NTFY_PARAMS;

/** Where one request's ntfy fields come from: its headers and query (or a JSON publish's body). */
export type NtfyParams = Partial<Record<NtfyField, string>>;

export type Headers = Record<string, string | string[] | undefined>;
export type Query = Record<string, unknown>;

// RFC 9218's `Priority: u=3, i`, which Cloudflare adds: not ntfy's priority (ntfy ignores it too).
const HTTP_PRIORITY = /^u=\d(\s*,\s*i)?$|^i$/;

function headerValue(headers: Headers, name: string): string {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return '';
  const text = decodeHeaderText(first).trim();
  if (name === 'priority' && HTTP_PRIORITY.test(text)) return '';
  return text;
}

function queryValue(query: Query, name: string): string {
  const value = query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.trim() : '';
}

/** ntfy's readParam: the first non-empty header among `names`, else the first query parameter. */
export function readParam(headers: Headers, query: Query, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headerValue(headers, name);
    if (value !== '') return value;
  }
  for (const name of names) {
    const value = queryValue(query, name);
    if (value !== '') return value;
  }
  return undefined;
}

/** Every ntfy publish field present in the request. */
export function readNtfyParams(headers: Headers, query: Query): NtfyParams {
  const params: NtfyParams = {};
  for (const [field, names] of Object.entries(NTFY_PARAMS) as [NtfyField, readonly string[]][]) {
    const value = readParam(headers, query, names);
    if (value !== undefined) params[field] = value;
  }
  return params;
}

/** ntfy's booleans: 1/yes/true are true, anything else false; absent gives the default. */
export function ntfyBool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return ['1', 'yes', 'true'].includes(value.toLowerCase());
}
