import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Problem } from '../../protocol/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Property-based fuzzing of the publish and stream endpoints: random headers, bodies and query
 * strings. Whatever arrives, the server never answers 5xx, never crashes or logs an internal error,
 * answers every error as problem+json, and stores exactly the alarms it acknowledged. Bounded: a
 * fixed number of runs per property (fast-check prints the seed and the shrunk input on failure).
 */
const RUNS = 300;

let server: TestServer;
let tokens: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer({
    publishRateLimit: { max: 1_000_000, windowMs: 60_000 },
    maxStreamsPerToken: 1_000,
    historyRateLimit: { max: 1_000_000, windowMs: 60_000 },
    logLevel: 'info',
  });
  tokens = {
    admin: server.adminToken,
    publishOps: await server.token({ user: 'pub', scope: 'publish', topics: ['ops'] }),
    subscribe: await server.token({ user: 'sub', scope: 'subscribe' }),
  };
});
afterAll(async () => {
  await server?.dispose();
});

/** Header-safe text: what an HTTP client can put in a header value (no CR, LF or NUL). */
const headerText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
    fc.constant('\t'),
  ),
  maxLength: 80,
});

const authorization = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('admin', 'publishOps', 'subscribe').map((k) => `Bearer ${tokens[k]}`),
  },
  fc
    .constantFrom('admin', 'publishOps')
    .map((k) => `Basic ${Buffer.from(`:${tokens[k]}`).toString('base64')}`),
  headerText.map((t) => `Bearer ${t}`),
  headerText,
  fc.constant(undefined),
);

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ),
  headerText,
  fc.constant(undefined),
);

const stringish = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.anything(),
);
const publishBody = fc.oneof(
  // Nearly valid: a real title and topic, with random optional fields.
  fc
    .record(
      {
        title: fc.string({ minLength: 1, maxLength: 60 }),
        topic: fc.constantFrom('ops', 'db'),
        priority: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('high', 'urgent')),
        tags: fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        url: fc.oneof(fc.webUrl(), fc.string({ maxLength: 20 })),
      },
      { requiredKeys: ['title', 'topic'] },
    )
    .map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        title: stringish,
        topic: fc.oneof(fc.constantFrom('ops', 'db', 'x'.repeat(65), ''), stringish),
        user: fc.oneof(fc.constantFrom('pub', 'admin'), stringish),
        body: fc.oneof(fc.string({ maxLength: 5_000 }), stringish),
        priority: fc.oneof(fc.integer({ min: -2, max: 8 }), stringish),
        url: fc.oneof(fc.webUrl(), fc.constant('javascript:alert(1)'), stringish),
        tags: fc.oneof(fc.array(fc.string({ maxLength: 20 }), { maxLength: 8 }), stringish),
        __proto__: fc.anything(),
        constructor: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

const extraHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'title',
      'priority',
      'tags',
      'click',
      'x-title',
      'x-priority',
      'last-event-id',
      'markdown',
    ),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
  ),
  headerText,
  { maxKeys: 5 },
);

const queryString = fc
  .dictionary(
    fc.oneof(
      fc.constantFrom('topics', 'since', 'access_token', 'limit', 'poll'),
      fc.string({ maxLength: 10 }),
    ),
    fc.oneof(
      fc.constantFrom('*', 'ops', 'ops,db', '0', '-1', '1e3', 'ops,,', '%00'),
      fc.constantFrom('admin', 'subscribe').map((k) => tokens[k] as string),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
    ),
    { maxKeys: 4 },
  )
  .map((q) => new URLSearchParams(q).toString());

const accepted = new Set<string>();

/** Checks the answer's shape and returns its body (read in full). */
async function expectWellFormedAnswer(response: Response): Promise<string> {
  const text = await response.text();
  expect(response.status).toBeLessThan(500);
  if (response.status >= 400) {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = Problem.safeParse(JSON.parse(text));
    expect(problem.success).toBe(true);
    expect(problem.data?.status).toBe(response.status);
  }
  return text;
}

function headersOf(parts: { authorization?: string; contentType?: string; extra: Record<string, string> }) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(parts.extra)) headers.set(name, value);
  if (parts.authorization !== undefined) headers.set('authorization', parts.authorization);
  if (parts.contentType !== undefined) headers.set('content-type', parts.contentType);
  return headers;
}

describe('fuzzing the publish and stream endpoints', () => {
  it('POST /v1/alarms: never 5xx, errors as problem+json, acknowledged means stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        authorization,
        contentType,
        extraHeaders,
        publishBody,
        queryString,
        async (auth, type, extra, body, query) => {
          const response = await fetch(`${server.url}/v1/alarms?${query}`, {
            method: 'POST',
            headers: headersOf({ authorization: auth, contentType: type, extra }),
            body,
          });
          const text = await expectWellFormedAnswer(response);
          if (response.status === 201) accepted.add((JSON.parse(text) as { id: string }).id);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('POST /{topic} (ntfy): never 5xx, errors as problem+json, acknowledged means stored', async () => {
    const topic = fc.oneof(
      fc.constantFrom('ops', 'db', 'v1', 'healthz', 'metrics', 'x'.repeat(65)),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    );
    await fc.assert(
      fc.asyncProperty(
        authorization,
        contentType,
        extraHeaders,
        publishBody,
        topic,
        fc.constantFrom('POST', 'PUT'),
        async (auth, type, extra, body, path, method) => {
          const response = await fetch(`${server.url}/${path}`, {
            method,
            headers: headersOf({ authorization: auth, contentType: type, extra }),
            body,
          });
          const text = await expectWellFormedAnswer(response);
          if (response.status === 200) accepted.add((JSON.parse(text) as { id: string }).id);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('GET /v1/stream: never 5xx, a stream or a problem+json error', async () => {
    await fc.assert(
      fc.asyncProperty(authorization, extraHeaders, queryString, async (auth, extra, query) => {
        const abort = new AbortController();
        const response = await fetch(`${server.url}/v1/stream?${query}`, {
          headers: headersOf({ authorization: auth, extra }),
          signal: abort.signal,
        });
        try {
          if (response.status === 200) {
            expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
          } else {
            await expectWellFormedAnswer(response);
          }
        } finally {
          abort.abort();
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('GET /v1/alarms: never 5xx, a JSON page or a problem+json error', async () => {
    await fc.assert(
      fc.asyncProperty(authorization, extraHeaders, queryString, async (auth, extra, query) => {
        const response = await fetch(`${server.url}/v1/alarms?${query}`, {
          headers: headersOf({ authorization: auth, extra }),
        });
        const text = await expectWellFormedAnswer(response);
        if (response.status === 200) expect(JSON.parse(text)).toHaveProperty('alarms');
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('afterwards: the server is healthy, logged no internal error, and stored exactly what it acknowledged', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.logs.filter((line) => line.level >= 50)).toEqual([]);
    // The runs did reach the store (the property about stored alarms is not vacuous).
    expect(accepted.size).toBeGreaterThan(0);
    // Straight from the SQLite file: alarms to any user or topic, whoever may read them.
    const db = new DatabaseSync(join(server.dataDir, 'tocsin.sqlite'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT id FROM alarms').all() as { id: number }[];
      expect(new Set(rows.map((row) => String(row.id)))).toEqual(accepted);
    } finally {
      db.close();
    }
  }, 60_000);
});
