import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { RawStream } from '../helpers/sse-client.ts';

let proc: ServerProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  if (match?.[1] === undefined) throw new Error(`metric ${name} not found`);
  return Number(match[1]);
}

describe('slow consumers', () => {
  it('drops a client that stops reading at the buffer cap; the server’s memory stays bounded', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-slow-'));
    proc = await spawnServer(dataDir, [
      '--publish-rate',
      '1000000/60000',
      '--max-buffered-bytes',
      String(256 * 1024),
      '--slow-consumer-grace-ms',
      '1000',
    ]);
    const { url } = proc;
    const admin = proc.adminToken as string;
    const stuck = await RawStream.open(url, { token: admin, topics: ['flood'] });
    const healthy = await RawStream.open(url, { token: admin, topics: ['flood'] });
    await Promise.all([stuck.waitForEvent('ready'), healthy.waitForEvent('ready')]);
    stuck.pause();
    const rssBefore = await metric(url, 'process_resident_memory_bytes');

    const body = 'x'.repeat(4000);
    const total = 3_000; // ~12 MB of frames: far more than the cap plus loopback's kernel buffers
    const cap = 256 * 1024;
    let peakBuffered = 0;
    for (let sent = 0; sent < total; sent += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          fetch(`${url}/v1/alarms`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify({ topic: 'flood', title: `f${sent + i}`, body }),
          }).then((r) => expect(r.status).toBe(201)),
        ),
      );
      peakBuffered = Math.max(peakBuffered, await metric(url, 'tocsin_stream_buffered_bytes'));
    }
    await healthy.waitForAlarms(total, 20_000);
    healthy.frames.length = 0; // the test's own memory, not the server's
    expect(await metric(url, 'tocsin_slow_consumer_drops_total')).toBe(1);
    expect(await metric(url, 'tocsin_open_streams')).toBe(1);
    // Without the cap the server would hold the stuck client's ~12 MB backlog; with it, at most 4× the cap
    // per stream (plus the frame that crossed it) is ever queued, and nothing once the stuck one is gone.
    expect(peakBuffered).toBeLessThanOrEqual(2 * (4 * cap + 8 * 1024));
    expect(await metric(url, 'tocsin_stream_buffered_bytes')).toBe(0);
    const rssAfter = await metric(url, 'process_resident_memory_bytes');
    console.log(
      `slow consumer: peak queued ${(peakBuffered / 1024).toFixed(0)} KiB; server RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB`,
    );
    healthy.close();
    stuck.close();
  }, 60_000);
});
