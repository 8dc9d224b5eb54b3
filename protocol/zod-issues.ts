import type { z } from 'zod';

/** One failed check of a validation: where (a dotted path, or `root` for the whole value) and why. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** A zod error as issues with readable paths: the one formatter server and client share. */
export function validationIssues(error: z.ZodError, root = '(root)'): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || root, message: issue.message }));
}

/** `path: message; path: message`, for one-line errors (CLI messages, logs, problem details). */
export function formatValidationError(error: z.ZodError, root = '(root)'): string {
  return validationIssues(error, root)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}
