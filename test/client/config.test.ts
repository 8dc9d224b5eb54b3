import { describe, expect, it } from 'vitest';
import { Agent } from '../../client/agent.ts';
import { parseAgentConfig, serverOrigin } from '../../client/config.ts';
import { AgentError } from '../../client/errors.ts';
import { describeState } from '../../client/state.ts';

describe('agent configuration', () => {
  it('fills defaults and normalises the server URL', () => {
    const config = parseAgentConfig({ server: 'http://127.0.0.1:8080', token: 't' });
    expect(config).toMatchObject({
      server: 'http://127.0.0.1:8080/',
      topics: [],
      backoff: { baseMs: 1_000, capMs: 10_000 },
      connectTimeoutMs: 5_000,
      replayTimeoutMs: 20_000,
      initialReplay: '24h',
      sleepDetection: { intervalMs: 5_000, thresholdMs: 30_000 },
    });
    expect(parseAgentConfig({ server: 'https://h.example/tocsin?x=1#y', token: 't' }).server).toBe(
      'https://h.example/tocsin/',
    );
    expect(serverOrigin('https://h.example/tocsin/')).toBe('https://h.example');
    expect(parseAgentConfig({ server: 'http://x', token: 't', topics: ['*'] }).topics).toEqual(['*']);
  });

  it.each([
    [{ server: 'ftp://x', token: 't' }, /server: "ftp:\/\/x" must be an http/],
    [{ server: 'nonsense', token: 't' }, /server: "nonsense" is not a URL/],
    [{ server: 'http://x', token: '' }, /token: a token is required/],
    [{ server: 'http://x', token: 't', topics: ['bad topic'] }, /topics\.0/],
    [{ server: 'http://x', token: 't', extra: 1 }, /unrecognized/i],
    [{ server: 'http://x', token: 't', topics: ['*', 'ops'] }, /stands alone/],
    [{ server: 'http://x', token: 't', initialReplay: 'yesterday' }, /initialReplay: use a duration/],
  ])('rejects %o with a typed error', (input, message) => {
    let caught: unknown;
    try {
      new Agent(input as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AgentError);
    expect((caught as AgentError).code).toBe('invalid-config');
    expect((caught as AgentError).message).toMatch(message);
  });
});

describe('state descriptions', () => {
  it('says each state in plain words', () => {
    const now = 1_000_000;
    expect(
      describeState(
        {
          status: 'reconnecting',
          reason: 'rate-limited',
          since: now,
          attempt: 2,
          nextAttemptAt: now + 7_500,
          delayMs: 7_500,
          detail: 'the server answered 429: slow down',
        },
        now,
      ),
    ).toBe('reconnecting in 8 s: the server answered 429: slow down');
    expect(
      describeState({ status: 'auth-required', reason: 'unauthorized', since: now, detail: 'revoked' }, now),
    ).toBe('sign-in required: revoked');
    expect(describeState({ status: 'suspended', reason: 'suspend', since: now }, now)).toMatch(/asleep/);
  });
});
