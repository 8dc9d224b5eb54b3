import type { z } from 'zod';
import { HttpProblem } from './problem.ts';

/** Parses untrusted input with a protocol schema; failures become a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.join('.') || '(body)',
    message: issue.message,
  }));
  throw new HttpProblem(
    'bad-request',
    `invalid ${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    {
      errors,
    },
  );
}
