import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../protocol/index.ts';
import { ntfyPriority } from '../../server/ntfy/priority.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const exec = promisify(execFile);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.dispose();
});

/** The real curl binary, as ntfy users and shell scripts call it. */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await exec('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, body: lines.join('\n') };
}

describe('the ntfy dialect', () => {
  it('accepts `curl -d "Backup failed" -H "Title: nightly" -H "Priority: high" host/backups`', async () => {
    const stream = await RawStream.open(server.url, { token: server.adminToken, topics: ['backups'] });
    await stream.waitForEvent('ready');
    const result = await curl([
      '-H',
      `Authorization: Bearer ${server.adminToken}`,
      '-d',
      'Backup failed',
      '-H',
      'Title: nightly',
      '-H',
      'Priority: high',
      `${server.url}/backups`,
    ]);
    expect(result.status).toBe(200);
    const answer = JSON.parse(result.body);
    expect(answer).toMatchObject({
      event: 'message',
      topic: 'backups',
      message: 'Backup failed',
      title: 'nightly',
      priority: 4,
    });
    expect(answer.time).toBeLessThan(Date.now() / 1000 + 1); // ntfy's time is in seconds
    await stream.waitForAlarms(1);
    expect(stream.alarms()[0]).toMatchObject({
      id: answer.id,
      topic: 'backups',
      title: 'nightly',
      body: 'Backup failed',
      priority: 4,
    });
    stream.close();
  });

  it('accepts PUT, Basic auth with the token as password, tags and click', async () => {
    const result = await curl([
      '-X',
      'PUT',
      '-u',
      `:${server.adminToken}`,
      '-H',
      'Tags: warning,skull',
      '-H',
      'X-Click: https://example.com/x',
      '-H',
      'X-Priority: 5',
      '--data-binary',
      'Disk at 99%',
      `${server.url}/disk`,
    ]);
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({
      topic: 'disk',
      priority: 5,
      tags: ['warning', 'skull'],
      click: 'https://example.com/x',
    });
    const history = await fetch(`${server.url}/v1/alarms?topics=disk`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    const { alarms } = (await history.json()) as { alarms: { title: string; body: string; url: string }[] };
    expect(alarms).toMatchObject([{ title: 'disk', body: 'Disk at 99%', url: 'https://example.com/x' }]);
  });

  it.each([
    ['Priority: loud', 400, 'bad-request'],
    ['Click: file:///etc/passwd', 400, 'bad-request'],
  ] as const)('rejects %s with a problem', async (header, status, code) => {
    const result = await curl([
      '-H',
      `Authorization: Bearer ${server.adminToken}`,
      '-H',
      header,
      '-d',
      'x',
      `${server.url}/ops`,
    ]);
    expect(result.status).toBe(status);
    expect((JSON.parse(result.body) as Problem).code).toBe(code);
  });

  it('never treats Tocsin’s own paths as topics', async () => {
    const result = await curl([
      '-H',
      `Authorization: Bearer ${server.adminToken}`,
      '-d',
      'x',
      `${server.url}/healthz`,
    ]);
    expect(result.status).toBe(404);
  });

  it('rejects a body that is not UTF-8 text', async () => {
    const response = await fetch(`${server.url}/ops`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}` },
      body: new Uint8Array([0xff, 0xfe, 0x00, 0x80]),
    });
    expect(response.status).toBe(400);
  });

  it.each([
    [undefined, 3],
    ['min', 1],
    ['low', 2],
    ['default', 3],
    ['HIGH', 4],
    ['urgent', 5],
    ['max', 5],
    ['2', 2],
    ['0', null],
    ['6', null],
    ['loud', null],
  ] as const)('maps Priority %s to %s', (raw, expected) => {
    expect(ntfyPriority(raw)).toBe(expected);
  });
});
