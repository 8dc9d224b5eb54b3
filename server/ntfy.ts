import { DEFAULT_PRIORITY } from '../protocol/index.ts';

/**
 * ntfy's publish dialect (https://docs.ntfy.sh/publish/), so tools that post to ntfy work unchanged:
 * the body is the message; headers carry the rest, with ntfy's aliases.
 */
const NTFY_PRIORITIES: Readonly<Record<string, number>> = {
  min: 1,
  low: 2,
  default: 3,
  high: 4,
  urgent: 5,
  max: 5,
};

export function ntfyPriority(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return DEFAULT_PRIORITY;
  const value = raw.trim().toLowerCase();
  if (/^[1-5]$/.test(value)) return Number(value);
  return NTFY_PRIORITIES[value] ?? null;
}

export function ntfyTags(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** First present header among ntfy's aliases for one field. */
export function ntfyHeader(
  headers: Record<string, string | string[] | undefined>,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value[0] !== undefined) return value[0];
  }
  return undefined;
}

export const NTFY_HEADERS = {
  title: ['x-title', 'title', 'ti', 't'],
  priority: ['x-priority', 'priority', 'prio', 'p'],
  tags: ['x-tags', 'tags', 'tag', 'ta'],
  click: ['x-click', 'click'],
} as const;

/** Paths that are Tocsin's own and can never be a topic. */
export const RESERVED_TOPICS: ReadonlySet<string> = new Set(['v1', 'healthz', 'metrics', 'docs']);
