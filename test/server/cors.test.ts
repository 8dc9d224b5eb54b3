import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseServerConfig } from '../../server/config.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const PAGE = 'https://dash.example';
const OTHER = 'https://evil.example';

function preflight(base: string, path: string, origin: string, method: string, headers: string[]) {
  return fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': headers.join(','),
    },
  });
}

function headerList(response: Response, name: string): string[] {
  return (response.headers.get(name) ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

describe('CORS with listed origins', () => {
  let server: TestServer;
  let subscriber: string;
  beforeAll(async () => {
    server = await startTestServer({
      allowedOrigins: [PAGE, 'http://127.0.0.1:9999'],
      publishRateLimit: { max: 1, windowMs: 60_000 },
    });
    subscriber = await server.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
  });
  afterAll(async () => {
    await server.dispose();
  });

  it.each([
    ['/v1/stream', 'GET', ['authorization', 'last-event-id', 'x-tocsin-client', 'x-tocsin-cursor-time']],
    ['/v1/alarms', 'GET', ['authorization']],
    ['/v1/alarms', 'POST', ['authorization', 'content-type']],
    ['/v1/me', 'GET', ['authorization']],
    ['/ops', 'POST', ['authorization', 'content-type', 'x-title', 'priority', 'tags']],
    ['/healthz', 'GET', ['cache-control']],
  ])('answers the preflight of %s %s with %j', async (path, method, headers) => {
    const response = await preflight(server.url, path, PAGE, method, headers);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(headerList(response, 'access-control-allow-methods')).toContain(method.toLowerCase());
    expect(headerList(response, 'access-control-allow-headers')).toEqual(expect.arrayContaining(headers));
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(headerList(response, 'vary')).toContain('origin');
  });

  it('gives an origin that is not listed no CORS headers, preflight or not', async () => {
    const pre = await preflight(server.url, '/v1/stream', OTHER, 'GET', ['authorization']);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-headers')).toBeNull();
    const get = await fetch(`${server.url}/healthz`, { headers: { origin: OTHER } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    expect(headerList(get, 'vary')).toContain('origin');
  });

  it('opens a stream with the CORS headers', async () => {
    const stream = await RawStream.open(server.url, { token: subscriber, headers: { origin: PAGE } });
    expect(stream.status).toBe(200);
    expect(stream.response.headers['access-control-allow-origin']).toBe(PAGE);
    expect(stream.response.headers['access-control-allow-credentials']).toBe('true');
    stream.close();
  });

  it('reads history cross-origin', async () => {
    const response = await fetch(`${server.url}/v1/alarms`, {
      headers: { origin: PAGE, authorization: `Bearer ${subscriber}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
  });

  describe('error answers carry CORS headers, so a page can read them', () => {
    const expectCorsProblem = async (response: Response, status: number) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
      expect(headerList(response, 'access-control-expose-headers')).toEqual(
        expect.arrayContaining(['www-authenticate', 'retry-after']),
      );
      return response;
    };

    it('401 without a token: a bare Bearer challenge (RFC 6750 §3.1: no error code)', async () => {
      const response = await fetch(`${server.url}/v1/stream`, { headers: { origin: PAGE } });
      await expectCorsProblem(response, 401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tocsin"');
    });

    it('401 with a bad token: invalid_token, on streams (query token too) and history', async () => {
      const bad = `tcs_000000000000_${'A'.repeat(43)}`;
      for (const [url, init] of [
        [`${server.url}/v1/stream?access_token=${bad}`, {}],
        [`${server.url}/v1/alarms`, { authorization: `Bearer ${bad}` }],
      ] as const) {
        const response = await fetch(url, { headers: { origin: PAGE, ...init } });
        await expectCorsProblem(response, 401);
        expect(response.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="tocsin", error="invalid_token", error_description="[^"\\]+"$/,
        );
      }
    });

    it('403 for a missing scope: insufficient_scope with the scope needed', async () => {
      const response = await fetch(`${server.url}/v1/alarms`, {
        method: 'POST',
        headers: { origin: PAGE, authorization: `Bearer ${subscriber}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'ops', title: 'x' }),
      });
      await expectCorsProblem(response, 403);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer realm="tocsin", error="insufficient_scope", scope="publish"',
      );
    });

    it('400 and 404', async () => {
      await expectCorsProblem(
        await fetch(`${server.url}/v1/stream`, {
          headers: { origin: PAGE, authorization: `Bearer ${subscriber}`, 'last-event-id': 'garbage' },
        }),
        400,
      );
      await expectCorsProblem(await fetch(`${server.url}/v1/nothing`, { headers: { origin: PAGE } }), 404);
    });

    it('429 with a readable Retry-After', async () => {
      const publish = () =>
        fetch(`${server.url}/v1/alarms`, {
          method: 'POST',
          headers: {
            origin: PAGE,
            authorization: `Bearer ${server.adminToken}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ topic: 'ops', title: 'x' }),
        });
      expect((await publish()).status).toBe(201);
      const limited = await expectCorsProblem(await publish(), 429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});

describe('CORS with *', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ allowedOrigins: ['*'] });
  });
  afterAll(async () => {
    await server.dispose();
  });

  it('answers any origin with a literal *, never with credentials', async () => {
    const pre = await preflight(server.url, '/v1/stream', OTHER, 'GET', ['authorization', 'last-event-id']);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    // `*` in Allow-Headers would not cover Authorization: it must be named.
    expect(headerList(pre, 'access-control-allow-headers')).toContain('authorization');
    const denied = await fetch(`${server.url}/v1/me`, { headers: { origin: OTHER } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('*');
    expect(denied.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('503 from a failing store carries the CORS headers too', async () => {
    const broken = await startTestServer({ allowedOrigins: ['*'] });
    try {
      await broken.server.context.store.close();
      const response = await fetch(`${broken.url}/v1/me`, {
        headers: { origin: OTHER, authorization: `Bearer ${broken.adminToken}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('retry-after')).toBe('5');
    } finally {
      await broken.dispose();
    }
  });
});

describe('without --allow-origin', () => {
  it('sends no CORS headers at all', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(`${server.url}/v1/me`, { headers: { origin: PAGE } });
      expect(response.status).toBe(401);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tocsin"');
    } finally {
      await server.dispose();
    }
  });
});

describe('--allow-origin values', () => {
  const parse = (allowedOrigins: string[]) => parseServerConfig({ dataDir: '/tmp/x', allowedOrigins });

  it('normalises origins the way browsers send them', () => {
    expect(parse(['https://Dash.Example:443/', 'http://127.0.0.1:8080', '*']).allowedOrigins).toEqual([
      'https://dash.example',
      'http://127.0.0.1:8080',
      '*',
    ]);
  });

  it.each([['dash.example'], ['https://dash.example/app'], ['ftp://x.example'], ['https://u:p@x.example']])(
    'rejects %s',
    (value) => {
      try {
        parse([value]);
        expect.unreachable('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).code).toBe('invalid-config');
      }
    },
  );
});
