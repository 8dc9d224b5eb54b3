import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite.ts';
import { mintToken, verifyToken } from '../../server/tokens.ts';
import { RawSocket } from '../helpers/raw-socket.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Counts the crypto work verifyToken does, to compare the paths without timing anything.
const work = vi.hoisted(() => ({ hashes: 0, comparisons: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    hash: (...args: Parameters<typeof crypto.hash>) => {
      work.hashes++;
      return crypto.hash(...args);
    },
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      work.comparisons++;
      return crypto.timingSafeEqual(a, b);
    },
  };
});

let server: TestServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('token checks leak nothing', () => {
  it('an unknown id, a revoked token and a wrong secret do the same work', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-tokens-'));
    const store = new SqliteStore({ dataDir: dir, retention: { maxAgeMs: 60_000, maxCount: 10 } });
    try {
      const { token } = await mintToken(store, { user: 'a', scope: 'admin', topics: null }, 0);
      const revoked = await mintToken(store, { user: 'b', scope: 'admin', topics: null }, 0);
      await store.revoke(revoked.record.id, 1);
      // The secret is base64url: it may contain '_' itself.
      const [, id, secret] = /^tcs_([0-9a-f]{12})_(.+)$/.exec(token) as unknown as [string, string, string];
      const wrongSecret = `tcs_${id}_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
      const unknownId = `tcs_${id === '000000000000' ? '111111111111' : '000000000000'}_${secret}`;
      const cost = async (presented: string) => {
        work.hashes = 0;
        work.comparisons = 0;
        const principal = await verifyToken(store, presented);
        return { principal, hashes: work.hashes, comparisons: work.comparisons };
      };
      const valid = await cost(token);
      expect(valid.principal?.user).toBe('a');
      const expected = { principal: null, hashes: valid.hashes, comparisons: valid.comparisons };
      expect(valid.comparisons).toBe(1);
      expect(await cost(wrongSecret)).toEqual(expected);
      expect(await cost(unknownId)).toEqual(expected);
      expect(await cost(revoked.token)).toEqual(expected);
    } finally {
      await store.close();
    }
  });

  it('never logs a token, at trace level, whatever the request looks like', async () => {
    server = await startTestServer({ logLevel: 'trace', headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const token = server.adminToken;
    const secret = (/^tcs_[0-9a-f]{12}_(.+)$/.exec(token) as RegExpExecArray)[1] as string;
    const basic = Buffer.from(`:${token}`).toString('base64');
    // Malformed requests: Node's parser error keeps the raw bytes, Authorization header included.
    for (const head of [
      `GET /v1/me HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nBad Header\r\n\r\n`,
      `POST /ops HTTP/1.1\r\nAuthorization: Basic ${basic}\r\nContent-Length: x\r\n\r\n`,
      `GET /v1/stream?access_token=${token} HTTP/1.1\r\nHost: t\r\n`,
    ]) {
      const socket = await RawSocket.open(server.url);
      socket.write(head);
      await socket.waitClosed(10_000);
    }
    await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${token.slice(0, -1)}A` } });
    await fetch(`${server.url}/v1/me?access_token=${token}`);
    await fetch(`${server.url}/ops`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: 'hi',
    });
    // Sentinel: the lines for everything above are written before this one.
    server.server.app.log.trace('sentinel');
    await vi.waitFor(() => expect(server?.logs.some((l) => l.msg === 'sentinel')).toBe(true));
    expect(server.logs.some((l) => l.level === 10 && l.msg !== 'sentinel')).toBe(true);

    const asBytes = (text: string) => [...Buffer.from(text)].join(',');
    for (const line of server.logs) {
      const text = JSON.stringify(line);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(basic);
      expect(text).not.toContain(asBytes(secret.slice(0, 12)));
    }
  }, 30_000);
});
