import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../protocol/index.ts';
import { runServerCli } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

let server: TestServer;
let publisher: string;
let subscriber: string;
beforeAll(async () => {
  server = await startTestServer({ maxStreamsPerToken: 2 });
  publisher = await server.token({ user: 'alice', scope: 'publish', topics: ['ops'] });
  subscriber = await server.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
});
afterAll(async () => {
  await server.dispose();
});

async function call(
  path: string,
  init: {
    method?: string;
    token?: string | null;
    body?: string;
    type?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? server.adminToken : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.type !== undefined) headers['content-type'] = init.type;
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.body !== undefined && { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', response, text };
}

async function expectProblem(
  result: Awaited<ReturnType<typeof call>>,
  status: number,
  code: Problem['code'],
) {
  expect(result.status, result.text).toBe(status);
  expect(result.type).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(result.text) as Problem;
  expect(problem).toMatchObject({ status, code, type: `urn:tocsin:problem:${code}` });
  expect(problem.title.length).toBeGreaterThan(0);
  return problem;
}

const json = 'application/json';

describe('authentication and scopes', () => {
  it.each([
    ['no token', null],
    ['a malformed token', 'hello'],
    ['an unknown token', `tcs_000000000000_${'A'.repeat(43)}`],
    ['a wrong secret for a real id', null],
  ])('401 for %s', async (name, token) => {
    let presented = token;
    if (name === 'a wrong secret for a real id') presented = `${subscriber.slice(0, 17)}${'B'.repeat(43)}`;
    await expectProblem(await call('/v1/stream', { token: presented }), 401, 'unauthorized');
    await expectProblem(
      await call('/v1/alarms', { token: presented, body: '{}', type: json }),
      401,
      'unauthorized',
    );
    await expectProblem(await call('/v1/me', { token: presented }), 401, 'unauthorized');
  });

  it('403 when the scope is wrong', async () => {
    await expectProblem(await call('/v1/stream', { token: publisher }), 403, 'forbidden');
    const body = JSON.stringify({ topic: 'ops', title: 'x' });
    await expectProblem(await call('/v1/alarms', { token: subscriber, body, type: json }), 403, 'forbidden');
  });

  it('403 for a topic outside the token’s ACL, for reading and for writing', async () => {
    await expectProblem(await call('/v1/stream?topics=ops,secret', { token: subscriber }), 403, 'forbidden');
    await expectProblem(await call('/v1/alarms?topics=secret', { token: subscriber }), 403, 'forbidden');
    const body = JSON.stringify({ topic: 'secret', title: 'x' });
    await expectProblem(await call('/v1/alarms', { token: publisher, body, type: json }), 403, 'forbidden');
  });

  it('403 when a non-admin sends to another user', async () => {
    const body = JSON.stringify({ user: 'bob', topic: 'ops', title: 'x' });
    await expectProblem(await call('/v1/alarms', { token: publisher, body, type: json }), 403, 'forbidden');
  });

  it('revoking a token closes its open streams, and reconnecting gets 401', async () => {
    const fast = await startTestServer({ tokenRecheckMs: 50 });
    try {
      const token = await fast.token({ user: 'temp', scope: 'subscribe' });
      const other = await fast.token({ user: 'temp', scope: 'subscribe' });
      const doomed = await RawStream.open(fast.url, { token });
      const kept = await RawStream.open(fast.url, { token: other });
      await Promise.all([doomed.waitForEvent('ready'), kept.waitForEvent('ready')]);
      await fast.server.context.tokens.revoke(token.split('_')[1] as string, Date.now());
      await doomed.waitForEnd(5_000);
      expect(kept.ended).toBe(false);
      const again = await RawStream.open(fast.url, { token });
      expect(again.status).toBe(401);
      const metrics = await (await fetch(`${fast.url}/metrics`)).text();
      expect(metrics).toMatch(/tocsin_stream_disconnects_total\{reason="revoked"\} 1/);
      kept.close();
    } finally {
      await fast.dispose();
    }
  });

  it('a token revoked from the CLI (another process) stops receiving within the poll, not the sweep', async () => {
    // The per-token sweep is 10 minutes away: only the revocation poll can close this stream.
    const fast = await startTestServer({ tokenRecheckMs: 600_000, revocationPollMs: 200 });
    try {
      const token = await fast.token({ user: 'temp', scope: 'subscribe' });
      const doomed = await RawStream.open(fast.url, { token });
      await doomed.waitForEvent('ready');
      const revoked = await runServerCli([
        'token',
        'revoke',
        token.split('_')[1] as string,
        '--data-dir',
        fast.dataDir,
      ]);
      expect(revoked.code).toBe(0);
      await doomed.waitForEnd(5_000);
      await fast.publish(fast.adminToken, { user: 'temp', title: 'after revocation' });
      expect(doomed.alarmIds()).toEqual([]);
    } finally {
      await fast.dispose();
    }
  });

  it('a revoked token stops working', async () => {
    const token = await server.token({ user: 'temp', scope: 'subscribe' });
    expect((await call('/v1/me', { token })).status).toBe(200);
    const id = token.split('_')[1] as string;
    expect(await server.server.context.tokens.revoke(id, Date.now())).toBe(true);
    await expectProblem(await call('/v1/me', { token }), 401, 'unauthorized');
  });
});

describe('bad input', () => {
  it.each([
    ['malformed JSON', '{"title": ', 'bad-request'],
    ['a non-object', '[1,2]', 'bad-request'],
    ['no title', '{"topic":"ops"}', 'bad-request'],
    ['no address', '{"title":"x"}', 'bad-request'],
    ['priority 9', '{"topic":"ops","title":"x","priority":9}', 'bad-request'],
    ['a javascript: url', '{"topic":"ops","title":"x","url":"javascript:alert(1)"}', 'bad-request'],
    ['an unknown field', '{"topic":"ops","title":"x","sound":"bell"}', 'bad-request'],
    ['a bad topic name', '{"topic":"../etc","title":"x"}', 'bad-request'],
  ] as const)('400 for %s', async (_name, body, code) => {
    const problem = await expectProblem(await call('/v1/alarms', { body, type: json }), 400, code);
    expect(problem.detail).toBeTruthy();
  });

  it('names the offending fields', async () => {
    const result = await call('/v1/alarms', { body: '{"topic":"ops","title":"","priority":0}', type: json });
    const problem = await expectProblem(result, 400, 'bad-request');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['priority', 'title']);
  });

  it('413 for a message over the cap, by body field and by raw size', async () => {
    const big = 'x'.repeat(4097);
    await expectProblem(
      await call('/v1/alarms', { body: JSON.stringify({ topic: 'ops', title: 't', body: big }), type: json }),
      413,
      'payload-too-large',
    );
    await expectProblem(
      await call('/v1/alarms', {
        body: JSON.stringify({ topic: 'ops', title: 't', body: 'x'.repeat(64_000) }),
        type: json,
      }),
      413,
      'payload-too-large',
    );
    await expectProblem(await call('/ops', { body: big, type: 'text/plain' }), 413, 'payload-too-large');
  });

  it('415 for a JSON route given another content type', async () => {
    await expectProblem(
      await call('/v1/alarms', { body: 'title=x', type: 'text/plain' }),
      415,
      'unsupported-media-type',
    );
  });

  it('404 problem for unknown routes', async () => {
    await expectProblem(await call('/v1/nope'), 404, 'not-found');
    await expectProblem(await call('/a/b/c', { method: 'POST', body: 'x' }), 404, 'not-found');
  });

  it('stores nothing for rejected input and keeps what was stored', async () => {
    const before = (await call('/v1/alarms?topics=ops&limit=1000')).text;
    await call('/v1/alarms', { body: '{"topic":"ops","title":"x","priority":"high"}', type: json });
    await call('/v1/alarms', { body: '{bad', type: json });
    expect((await call('/v1/alarms?topics=ops&limit=1000')).text).toBe(before);
  });
});

describe('limits', () => {
  it('429 with Retry-After once a token passes its publish rate, on both dialects', async () => {
    const limitedServer = await startTestServer({ publishRateLimit: { max: 5, windowMs: 60_000 } });
    try {
      const post = (
        token: string,
        path = '/v1/alarms',
        body = JSON.stringify({ topic: 'ops', title: 'x' }),
      ) =>
        fetch(`${limitedServer.url}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': path === '/v1/alarms' ? json : 'text/plain',
          },
          body,
        });
      const token = await limitedServer.token({ user: 'rl', scope: 'publish', topics: ['ops'] });
      for (let i = 0; i < 3; i++) expect((await post(token)).status).toBe(201);
      for (let i = 0; i < 2; i++) expect((await post(token, '/ops', 'hi')).status).toBe(200);
      for (const limited of [await post(token), await post(token, '/ops', 'hi')]) {
        expect(limited.status).toBe(429);
        expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await limited.json()) as Problem).code).toBe('rate-limited');
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // Other tokens are not affected.
      const other = await limitedServer.token({ user: 'rl2', scope: 'publish', topics: ['ops'] });
      expect((await post(other)).status).toBe(201);
    } finally {
      await limitedServer.dispose();
    }
  });

  it('429 too-many-streams past the per-token stream cap', async () => {
    const token = await server.token({ user: 'many', scope: 'subscribe' });
    const open = [await RawStream.open(server.url, { token }), await RawStream.open(server.url, { token })];
    await Promise.all(open.map((s) => s.waitForEvent('ready')));
    const third = await call('/v1/stream', { token });
    await expectProblem(third, 429, 'too-many-streams');
    expect(third.response.headers.get('retry-after')).toBe('30');
    open[0]?.close();
    await open[0]?.waitForEnd();
    // The server frees the slot when it sees the close: wait for that, not for a while.
    await expect.poll(() => server.server.context.registry.size).toBe(1);
    const again = await RawStream.open(server.url, { token });
    expect(again.status).toBe(200);
    again.close();
    open[1]?.close();
  });

  it('a client that reconnects (same X-Tocsin-Client id) replaces its old stream instead of using a slot', async () => {
    const token = await server.token({ user: 'laptop', scope: 'subscribe' });
    const me = { 'x-tocsin-client': 'laptop-1234567' };
    const first = await RawStream.open(server.url, { token, headers: me });
    const other = await RawStream.open(server.url, {
      token,
      headers: { 'x-tocsin-client': 'desktop-7654321' },
    });
    await Promise.all([first.waitForEvent('ready'), other.waitForEvent('ready')]);
    // At the cap (2): the same client comes back, e.g. after its connection went half-open.
    const second = await RawStream.open(server.url, { token, headers: me });
    expect(second.status).toBe(200);
    await first.waitForEnd();
    expect(other.ended).toBe(false);
    // A third client is still over the cap.
    const third = await call('/v1/stream', { token, headers: { 'x-tocsin-client': 'phone-00000000' } });
    await expectProblem(third, 429, 'too-many-streams');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/tocsin_stream_disconnects_total\{reason="replaced"\} 1/);
    second.close();
    other.close();
  });

  it('SSE injection in every text field is delivered as data, never as frames', async () => {
    const token = await server.token({ user: 'inj', scope: 'subscribe', topics: ['ops'] });
    const stream = await RawStream.open(server.url, { token });
    await stream.waitForEvent('ready');
    const evil = 'x\n\nevent: ready\ndata: {"heartbeatMs":1}\n\nid: 999\r\nretry: 1\r\n\r\n';
    const sent = await server.publish(server.adminToken, {
      topic: 'ops',
      title: evil,
      body: evil,
      tags: [evil.slice(0, 60)],
    });
    await stream.waitForAlarms(1);
    expect(stream.frames.map((f) => f.event)).toEqual(['ready', 'alarm']);
    expect(stream.frames[1]?.id).toBe(sent.id);
    expect(stream.retries).toEqual([100]);
    expect(stream.alarms()[0]).toMatchObject({ title: evil.trim(), body: evil, tags: [evil.slice(0, 60)] });
    stream.close();
  });
});
