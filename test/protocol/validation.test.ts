import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatValidationError, PublishRequest, validationIssues } from '../../protocol/index.ts';

describe('the one zod-error formatter', () => {
  it('names every failed field by its dotted path, and the whole value by the given root', () => {
    const result = PublishRequest.safeParse({ topic: 'not a topic!', title: '', priority: 9, tags: [1] });
    expect(result.success).toBe(false);
    const issues = validationIssues((result as { error: z.ZodError }).error);
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['topic', 'priority', 'tags.0']));
    const whole = z.string().safeParse(42);
    expect(formatValidationError((whole as { error: z.ZodError }).error, '(body)')).toMatch(/^\(body\): /);
    expect(formatValidationError((whole as { error: z.ZodError }).error)).toMatch(/^\(root\): /);
  });

  it('joins several issues on one line', () => {
    const result = z.object({ a: z.number(), b: z.number() }).safeParse({ a: 'x', b: 'y' });
    expect(formatValidationError((result as { error: z.ZodError }).error)).toMatch(/^a: .+; b: .+$/);
  });
});
