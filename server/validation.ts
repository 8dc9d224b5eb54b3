import type { z } from 'zod';
import { validationIssues } from '../protocol/index.ts';
import { HttpProblem } from './problem.ts';

/** Parses untrusted input with a protocol schema; failures become a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = validationIssues(result.error, '(body)');
  throw new HttpProblem(
    'bad-request',
    `invalid ${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    {
      errors,
    },
  );
}
