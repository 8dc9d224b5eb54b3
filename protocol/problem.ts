import { z } from 'zod';

/** Every error code the server answers with; clients switch on these, never on the prose. */
export const ProblemCode = z.enum([
  'bad-request',
  'bad-last-event-id',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'payload-too-large',
  'unsupported-media-type',
  /** A feature of another dialect (ntfy's e-mail or phone calls) this server does not offer. */
  'unsupported-feature',
  'rate-limited',
  'too-many-streams',
  'unavailable',
  'internal',
]);
export type ProblemCode = z.infer<typeof ProblemCode>;

/** RFC 9457 problem details, served as `application/problem+json`, plus a stable `code`. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  code: ProblemCode,
  detail: z.string().optional(),
  /** Field-level complaints for 400s: where and what. */
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
