import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryResponse } from '../../protocol/index.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { RawStream } from '../helpers/sse-client.ts';

let proc: ServerProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('durability', () => {
  it('replays every acknowledged alarm after kill -9 and a restart on the same data dir', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-crash-'));
    proc = await spawnServer(dataDir, ['--publish-rate', '1000000/60000']);
    const admin = proc.adminToken as string;
    const url = proc.url;
    const acked: string[] = [];
    let inFlight = 0;
    let stop = false;
    // Publishers hammer the server; SIGKILL lands mid-burst.
    const publisher = async () => {
      for (let i = 0; !stop; i++) {
        inFlight++;
        try {
          const response = await fetch(`${url}/v1/alarms`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify({ topic: 'crash', title: `c${i}` }),
          });
          if (response.status === 201) acked.push(((await response.json()) as { id: string }).id);
        } catch {
          // connection refused/reset once the process is gone: not acknowledged, not counted
        } finally {
          inFlight--;
        }
      }
    };
    const workers = Array.from({ length: 8 }, publisher);
    while (acked.length < 300) await new Promise((r) => setTimeout(r, 5));
    await proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    expect(inFlight).toBe(0);

    proc = await spawnServer(dataDir, ['--publish-rate', '1000000/60000'], Number(new URL(url).port));
    expect(proc.adminToken).toBeUndefined(); // same data dir: tokens survived, none minted again
    const stream = await RawStream.open(proc.url, { token: admin, topics: ['crash'], since: '0' });
    await stream.waitForEvent('ready', 15_000);
    const replayed = new Set(stream.alarmIds());
    const lost = acked.filter((id) => !replayed.has(id));
    expect(lost).toEqual([]);
    expect(stream.alarmIds()).toEqual([...replayed].sort((a, b) => Number(a) - Number(b)));
    stream.close();

    // And the history endpoint agrees.
    const history = (await (
      await fetch(`${proc.url}/v1/alarms?topics=crash&limit=1000`, {
        headers: { authorization: `Bearer ${admin}` },
      })
    ).json()) as HistoryResponse;
    expect(history.alarms.length).toBeGreaterThanOrEqual(acked.length);
  }, 60_000);

  it('shuts down cleanly on SIGTERM: streams end with a short retry, exit code 0', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-term-'));
    proc = await spawnServer(dataDir);
    const stream = await RawStream.open(proc.url, { token: proc.adminToken as string });
    await stream.waitForEvent('ready');
    const code = await proc.kill('SIGTERM');
    await stream.waitForEnd();
    expect(code).toBe(0);
    // The shutdown retry (2 s default) is jittered ±50% per stream so clients come back spread out.
    expect(stream.retries.at(-1)).toBeGreaterThanOrEqual(1_000);
    expect(stream.retries.at(-1)).toBeLessThanOrEqual(3_000);
  });
});
