import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { formatValidationError } from '../protocol/index.ts';

/**
 * What reading one of the agent's JSON files found. Callers decide what each case means for them
 * (first run, a warning, a fallback); none of them throws, so a damaged file never stops the app.
 */
export type JsonFileRead<T> =
  | { readonly kind: 'missing' }
  | { readonly kind: 'ok'; readonly value: T }
  /** The file exists but cannot be read (permissions, I/O error, a directory in its place). */
  | { readonly kind: 'unreadable'; readonly reason: string }
  /** Read, but not JSON, or JSON that does not match the schema. */
  | { readonly kind: 'invalid'; readonly reason: string };

export async function readJsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<JsonFileRead<z.output<S>>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: (error as Error).message };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', reason: `not JSON (${(error as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { kind: 'ok', value: parsed.data }
    : { kind: 'invalid', reason: formatValidationError(parsed.error) };
}
