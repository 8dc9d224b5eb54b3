import type { z } from 'zod';
import {
  formatValidationError,
  Me,
  type Problem,
  type ProblemCode,
  PublishRequest,
  type PublishRequest as PublishRequestValue,
  PublishResponse,
} from '../protocol/index.ts';
import { describeNetworkError, type FetchFunction, readProblem } from './stream.ts';

export type ApiErrorCode = ProblemCode | 'network-error' | 'bad-response' | 'timeout';

/** A failed request: the server's problem code when it sent one, else what went wrong on the way. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number | undefined;
  readonly problem: Problem | null;
  constructor(
    code: ApiErrorCode,
    message: string,
    extra: { status?: number; problem?: Problem | null; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = extra.status;
    this.problem = extra.problem ?? null;
  }
}

export interface ApiOptions {
  readonly server: string;
  readonly token: string;
  readonly fetch?: FetchFunction;
  readonly timeoutMs?: number;
}

/** The request/response part of the server API (the stream is the agent's). */
export class TocsinApi {
  readonly #base: string;
  readonly #token: string;
  readonly #fetch: FetchFunction;
  readonly #timeoutMs: number;

  constructor(options: ApiOptions) {
    this.#base = options.server.endsWith('/') ? options.server : `${options.server}/`;
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Verifies the token: who it belongs to, its scope and topics. */
  async me(): Promise<Me> {
    return this.#request('GET', 'v1/me', undefined, Me);
  }

  async publish(request: z.input<typeof PublishRequest>): Promise<PublishResponse> {
    const checked = PublishRequest.safeParse(request);
    if (!checked.success) {
      throw new ApiError('bad-request', formatValidationError(checked.error, 'alarm'));
    }
    const body: PublishRequestValue = checked.data;
    return this.#request('POST', 'v1/alarms', body, PublishResponse);
  }

  async #request<T>(method: string, path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const url = new URL(path, this.#base);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new ApiError('timeout', `${url.origin} did not answer within ${this.#timeoutMs / 1000} s`, {
          cause: error,
        });
      }
      throw new ApiError('network-error', `cannot reach ${url.origin}: ${describeNetworkError(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) {
      const problem = await readProblem(response);
      const code: ApiErrorCode = problem?.code ?? (response.status >= 500 ? 'unavailable' : 'bad-response');
      const said = problem === null ? `HTTP ${response.status}` : (problem.detail ?? problem.title);
      throw new ApiError(code, said, { status: response.status, problem });
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new ApiError(
        'bad-response',
        `${url.origin} answered with something that is not JSON; is it a Tocsin server?`,
        {
          status: response.status,
          cause: error,
        },
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(
        'bad-response',
        `${url.origin} answered in an unexpected shape; is it a Tocsin server?`,
        {
          status: response.status,
        },
      );
    }
    return parsed.data;
  }
}
