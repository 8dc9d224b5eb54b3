import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSocket } from '../helpers/raw-socket.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.dispose();
});

const FORGED = [
  'https://ok.example/\nid: 99\ndata: forged',
  'https://ok.example/\r\nx',
  'https://ok.example/\u001b]0;retitled\u0007',
  'https://ok.example/\u009b2J',
  'https://ok.example/\u0000',
];

async function storedTitles(): Promise<string[]> {
  const response = await fetch(`${server.url}/v1/alarms?topics=*&since=0&limit=1000`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  return ((await response.json()) as { alarms: { title: string }[] }).alarms.map((a) => a.title);
}

describe('URLs with control characters are refused on input', () => {
  it.each(FORGED)('JSON publish: url %j → 400 problem+json naming the field, nothing stored', async (url) => {
    for (const body of [{ title: 'forged', topic: 'ops', url }]) {
      const response = await fetch(`${server.url}/v1/alarms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as {
        code: string;
        errors?: { path: string; message: string }[];
      };
      expect(problem.code).toBe('bad-request');
      expect(problem.errors?.some((e) => /url/.test(e.path) && /control characters/.test(e.message))).toBe(
        true,
      );
    }
  });

  it('ntfy publish: a Click header with a control character → 400, nothing stored', async () => {
    const socket = await RawSocket.open(server.url);
    socket.write(
      `POST /ops HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${server.adminToken}\r\n` +
        'Click: https://ok.example/\tinjected\r\nContent-Length: 6\r\nConnection: close\r\n\r\nforged',
    );
    await socket.waitClosed(10_000);
    expect(socket.received).toMatch(/^HTTP\/1\.1 400 /);
    expect(socket.received).toMatch(/content-type: application\/problem\+json/i);
  });

  it('none of the refused alarms was stored (sentinel)', async () => {
    await server.publish(server.adminToken, { title: 'sentinel', topic: 'ops', url: 'https://ok.example/' });
    expect(await storedTitles()).toEqual(['sentinel']);
  });
});
