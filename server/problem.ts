import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemCode } from '../protocol/index.ts';

const STATUS: Record<ProblemCode, number> = {
  'bad-request': 400,
  'bad-last-event-id': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'unsupported-feature': 400,
  'rate-limited': 429,
  'too-many-streams': 429,
  unavailable: 503,
  internal: 500,
};

const TITLE: Record<ProblemCode, string> = {
  'bad-request': 'The request is malformed',
  'bad-last-event-id': 'The Last-Event-ID is not an alarm id',
  unauthorized: 'A valid token is required',
  forbidden: 'This token may not do that',
  'not-found': 'No such resource',
  'method-not-allowed': 'Method not allowed here',
  'payload-too-large': 'The message is too large',
  'unsupported-media-type': 'Unsupported content type',
  'unsupported-feature': 'This server does not offer that feature',
  'rate-limited': 'Too many requests for this token',
  'too-many-streams': 'Too many open streams for this token',
  unavailable: 'Temporarily unavailable',
  internal: 'Internal server error',
};

/** An HTTP error as a typed value; the error handler renders it as application/problem+json. */
export class HttpProblem extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: Problem['errors'];
  /** Seconds, sent as Retry-After. */
  readonly retryAfter: number | undefined;
  /** Sent as WWW-Authenticate (401, and 403 for a missing scope). */
  readonly challenge: string | undefined;

  constructor(
    code: ProblemCode,
    detail?: string,
    extra: { errors?: Problem['errors']; retryAfter?: number; challenge?: string } = {},
  ) {
    super(detail ?? TITLE[code]);
    this.name = 'HttpProblem';
    this.code = code;
    this.status = STATUS[code];
    this.detail = detail;
    this.errors = extra.errors;
    this.retryAfter = extra.retryAfter;
    this.challenge = extra.challenge;
  }

  /** The response headers this problem carries besides its body. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.retryAfter !== undefined) headers['retry-after'] = String(this.retryAfter);
    if (this.challenge !== undefined) headers['www-authenticate'] = this.challenge;
    return headers;
  }

  toJSON(): Problem {
    const body: Problem = {
      type: `urn:tocsin:problem:${this.code}`,
      title: TITLE[this.code],
      status: this.status,
      code: this.code,
    };
    if (this.detail !== undefined) body.detail = this.detail;
    if (this.errors !== undefined) body.errors = this.errors;
    return body;
  }
}

export { PROBLEM_CONTENT_TYPE };
