/**
 * Why the agent refused to do something. Callers switch on `code`, never on the message, which is
 * written for people.
 */
export type AgentErrorCode = 'invalid-config' | 'not-started' | 'stopped';

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}
