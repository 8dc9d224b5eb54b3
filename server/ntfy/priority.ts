import { DEFAULT_PRIORITY } from '../../protocol/index.ts';

/** ntfy's priority names (util/util.go: ParsePriority). */
export const NTFY_PRIORITIES: Readonly<Record<string, number>> = {
  min: 1,
  low: 2,
  default: 3,
  high: 4,
  urgent: 5,
  max: 5,
};

/** A priority as a number or ntfy name; absent or empty is the default; null when invalid. */
export function ntfyPriority(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return DEFAULT_PRIORITY;
  const value = raw.trim().toLowerCase();
  if (/^[1-5]$/.test(value)) return Number(value);
  return NTFY_PRIORITIES[value] ?? null;
}

/** A comma-separated tag list, empty entries dropped. */
export function ntfyTags(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** Paths that are Tocsin's own and can never be a topic. */
export const RESERVED_TOPICS: ReadonlySet<string> = new Set(['v1', 'healthz', 'metrics', 'docs']);
