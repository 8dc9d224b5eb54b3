import { z } from 'zod';
import { AlarmAction, MAX_ACTIONS } from '../../protocol/index.ts';

/** A malformed `Actions` value; `detail` says what and where, as ntfy's parser does. */
export class NtfyActionsError extends Error {
  readonly code = 'invalid-actions';
  constructor(detail: string) {
    super(detail);
    this.name = 'NtfyActionsError';
  }
}

const WITH_URL = new Set(['view', 'http']);
const KEY = /^([-.\w]+)\s*=\s*/;

interface RawAction {
  action: string;
  label: string;
  url?: string;
  method?: string;
  body?: string;
  intent?: string;
  clear?: boolean;
  headers: Record<string, string>;
  extras: Record<string, string>;
}

/**
 * ntfy's `Actions` header/param (https://docs.ntfy.sh/publish/#action-buttons): a JSON array, or the
 * short form `view, Open, https://…, clear=true; http, Close door, https://…, method=PUT, body=x`.
 * A faithful port of ntfy's server/actions.go grammar (sections split by `,`, actions by `;`, values
 * optionally quoted with `"` or `'` and `\` escapes; positional action, label, then url).
 */
export function parseNtfyActions(input: string): AlarmAction[] {
  const text = input.trim();
  const raw = text.startsWith('[') ? fromJson(text) : new SimpleParser(text).parse();
  if (raw.length > MAX_ACTIONS) throw new NtfyActionsError(`only ${MAX_ACTIONS} actions allowed`);
  return raw.map((action, index) => toAlarmAction(action, index));
}

function fromJson(text: string): RawAction[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new NtfyActionsError(`JSON error: ${(error as Error).message}`);
  }
  const JsonAction = z.looseObject({
    action: z.string(),
    label: z.string().default(''),
    url: z.string().optional(),
    method: z.string().optional(),
    body: z.string().optional(),
    intent: z.string().optional(),
    clear: z.boolean().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    extras: z.record(z.string(), z.string()).default({}),
  });
  const result = z.array(JsonAction).safeParse(parsed);
  if (!result.success) throw new NtfyActionsError(`JSON error: ${result.error.issues[0]?.message}`);
  return result.data;
}

function toAlarmAction(raw: RawAction, index: number): AlarmAction {
  const action = raw.action.toLowerCase();
  if (!['view', 'http', 'broadcast'].includes(action)) {
    throw new NtfyActionsError(
      `parameter 'action' cannot be '${raw.action}', valid values are 'view', 'broadcast' and 'http'`,
    );
  }
  if (raw.label === '') throw new NtfyActionsError(`parameter 'label' is required`);
  if (WITH_URL.has(action) && (raw.url ?? '') === '') {
    throw new NtfyActionsError(`parameter 'url' is required for action '${action}'`);
  }
  const method = (raw.method ?? '').toUpperCase();
  if (action === 'http' && (method === 'GET' || method === 'HEAD') && (raw.body ?? '') !== '') {
    throw new NtfyActionsError(`parameter 'body' cannot be set if method is ${method}`);
  }
  const clear = raw.clear === undefined ? {} : { clear: raw.clear };
  const candidate =
    action === 'view'
      ? { action, label: raw.label, url: raw.url, ...clear }
      : action === 'http'
        ? {
            action,
            label: raw.label,
            url: raw.url,
            method: method === '' ? 'POST' : method,
            ...(Object.keys(raw.headers).length > 0 && { headers: raw.headers }),
            ...(raw.body !== undefined && raw.body !== '' && { body: raw.body }),
            ...clear,
          }
        : {
            action,
            label: raw.label,
            ...(raw.intent !== undefined && raw.intent !== '' && { intent: raw.intent }),
            ...(Object.keys(raw.extras).length > 0 && { extras: raw.extras }),
            ...clear,
          };
  const result = AlarmAction.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new NtfyActionsError(`action ${index + 1}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return result.data;
}

const EOF_CHAR = '';

class SimpleParser {
  readonly #input: string;
  #pos = 0;

  constructor(input: string) {
    this.#input = input;
  }

  parse(): RawAction[] {
    const actions: RawAction[] = [];
    while (!this.#eof()) actions.push(this.#parseAction());
    return actions;
  }

  #parseAction(): RawAction {
    const action: RawAction = { action: '', label: '', headers: {}, extras: {} };
    for (let section = 0; ; section++) {
      const { key, value, last } = this.#parseSection();
      populate(action, section, key, value);
      this.#slurpSpaces();
      if (last) return action;
    }
  }

  #parseSection(): { key: string; value: string; last: boolean } {
    this.#slurpSpaces();
    const key = this.#parseKey();
    const c = this.#peek();
    if (isSectionEnd(c)) {
      this.#pos += c.length;
      return { key, value: '', last: isLastSection(c) };
    }
    if (c === '"' || c === "'") return { key, ...this.#parseQuoted(c) };
    return { key, ...this.#parseValue() };
  }

  #parseKey(): string {
    const match = KEY.exec(this.#input.slice(this.#pos));
    if (match === null) return '';
    this.#pos += match[0].length;
    return match[1] as string;
  }

  #parseValue(): { value: string; last: boolean } {
    const start = this.#pos;
    for (;;) {
      const c = this.#peek();
      if (isSectionEnd(c)) {
        const value = this.#input.slice(start, this.#pos).trim();
        this.#pos += c.length;
        return { value, last: isLastSection(c) };
      }
      this.#pos += c.length;
    }
  }

  #parseQuoted(quote: string): { value: string; last: boolean } {
    this.#pos++;
    const start = this.#pos;
    let previous = '';
    for (;;) {
      const c = this.#peek();
      if (c === EOF_CHAR) {
        throw new NtfyActionsError(`unexpected end of input, quote started at position ${start}`);
      }
      if (c === quote && previous !== '\\') {
        const value = this.#input.slice(start, this.#pos).replaceAll(`\\${quote}`, quote);
        this.#pos += c.length;
        this.#slurpSpaces();
        const next = this.#peek();
        if (!isSectionEnd(next)) {
          throw new NtfyActionsError(`unexpected character '${next}' at position ${this.#pos}`);
        }
        this.#pos += next.length;
        return { value, last: isLastSection(next) };
      }
      previous = c;
      this.#pos += c.length;
    }
  }

  #slurpSpaces(): void {
    while (/^[ \t\r\n]$/.test(this.#peek())) this.#pos++;
  }

  #peek(): string {
    if (this.#eof()) return EOF_CHAR;
    return String.fromCodePoint(this.#input.codePointAt(this.#pos) as number);
  }

  #eof(): boolean {
    return this.#pos >= this.#input.length;
  }
}

function isSectionEnd(c: string): boolean {
  return c === EOF_CHAR || c === ';' || c === ',';
}

function isLastSection(c: string): boolean {
  return c === EOF_CHAR || c === ';';
}

function populate(action: RawAction, section: number, rawKey: string, value: string): void {
  let key = rawKey;
  if (key === '' && section === 0) key = 'action';
  else if (key === '' && section === 1) key = 'label';
  else if (key === '' && section === 2 && WITH_URL.has(action.action.toLowerCase())) key = 'url';
  if (key === '') throw new NtfyActionsError(`term '${value}' unknown`);
  if (key.startsWith('headers.')) {
    action.headers[key.slice('headers.'.length)] = value;
    return;
  }
  if (key.startsWith('extras.')) {
    action.extras[key.slice('extras.'.length)] = value;
    return;
  }
  switch (key.toLowerCase()) {
    case 'action':
      action.action = value;
      return;
    case 'label':
      action.label = value;
      return;
    case 'clear': {
      const lower = value.toLowerCase();
      if (!['true', 'yes', '1', 'false', 'no', '0'].includes(lower)) {
        throw new NtfyActionsError(
          `parameter 'clear' cannot be '${value}', only boolean values are allowed (true/yes/1/false/no/0)`,
        );
      }
      action.clear = lower === 'true' || lower === 'yes' || lower === '1';
      return;
    }
    case 'url':
      action.url = value;
      return;
    case 'method':
      action.method = value;
      return;
    case 'body':
      action.body = value;
      return;
    case 'intent':
      action.intent = value;
      return;
    default:
      throw new NtfyActionsError(`key '${key}' unknown`);
  }
}
