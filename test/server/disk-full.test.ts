import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.ts';

const mounted = mountTmpfs(4 * 1024);
const reason = typeof mounted === 'string' ? mounted : null;
if (reason !== null) console.warn(`disk-full tests skipped: ${reason}`);
const disk = typeof mounted === 'string' ? undefined : (mounted as Tmpfs);

/** Writes a file until the disk has no space left (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(disk === undefined)('a full disk under the SQLite store', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dataDir: join((disk as Tmpfs).path, 'data') });
  });
  afterAll(async () => {
    await server?.dispose();
    disk?.unmount();
  });

  const health = async () => {
    const response = await fetch(`${server.url}/healthz`);
    return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
  };
  const publish = (title: string) =>
    fetch(`${server.url}/v1/alarms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title, topic: 'ops', body: 'x'.repeat(3_000) }),
    });

  it('healthz reports the store that cannot write, the log says so once, and both see the recovery', async () => {
    expect((await health()).status).toBe(200);
    const filler = join((disk as Tmpfs).path, 'filler');
    fillDisk(filler);
    // Publishes fail (503) once SQLite runs out of room; a few may still fit in pages it already has.
    let failed = 0;
    for (let i = 0; i < 400 && failed < 5; i++) {
      const response = await publish(`full ${i}`);
      if (response.status === 503) failed++;
      else expect(response.status).toBe(201);
    }
    expect(failed).toBe(5);
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.reason).toMatch(/cannot write/);
    const errors = server.logs.filter((l) => l.msg.startsWith('the store cannot write'));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.level).toBe(50);

    rmSync(filler);
    // No alarm needed: the health check itself notices the recovery (it probes at most once a second).
    await expect
      .poll(health, { timeout: 10_000, interval: 200 })
      .toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(server.logs.filter((l) => l.msg === 'the store can write again')).toHaveLength(1);
    expect((await publish('after')).status).toBe(201);
  }, 60_000);
});
