import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Me, SCOPES } from '../../protocol/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** `GET /v1/me` answers exactly the protocol's `Me`, for every scope, with or without topics. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.dispose();
});

describe('GET /v1/me', () => {
  it.each(SCOPES)('describes a %s token with the protocol schema, nothing more', async (scope) => {
    for (const topics of [undefined, ['ops', 'db']]) {
      const token = await server.token({ user: 'who', scope, ...(topics && { topics }) });
      const response = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const me = Me.strict().parse(await response.json());
      expect(me).toMatchObject({ user: 'who', scope, topics: topics ?? null });
      expect(token.startsWith(`tcs_${me.tokenId}_`)).toBe(true);
    }
  });
});
