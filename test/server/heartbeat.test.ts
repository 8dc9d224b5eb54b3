import { afterEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_SLICE, type IntervalTimers, startHeartbeat } from '../../server/heartbeat.ts';
import { Registry } from '../../server/registry.ts';
import type { StreamSession } from '../../server/session.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

/** Timers the test fires by hand: heartbeat counts are exact, not timing-dependent. */
class ManualTimers implements IntervalTimers {
  readonly intervals: { fn: () => void; ms: number }[] = [];
  setInterval(fn: () => void, ms: number): unknown {
    const entry = { fn, ms };
    this.intervals.push(entry);
    return entry;
  }
  clearInterval(handle: unknown): void {
    const i = this.intervals.indexOf(handle as { fn: () => void; ms: number });
    if (i !== -1) this.intervals.splice(i, 1);
  }
  tick(): void {
    for (const { fn } of this.intervals) fn();
  }
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

describe('heartbeats', () => {
  it('writes one comment frame per interval to every idle stream', async () => {
    const timers = new ManualTimers();
    server = await startTestServer({ heartbeatMs: 15_000, deps: { timers } });
    expect(timers.intervals.map((t) => t.ms)).toEqual([15_000]);
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const a = await RawStream.open(server.url, { token });
    const b = await RawStream.open(server.url, { token, topics: ['ops'] });
    await Promise.all([a.waitForEvent('ready'), b.waitForEvent('ready')]);
    expect(a.comments).toBe(0);
    for (let i = 0; i < 3; i++) timers.tick();
    await Promise.all([a.waitFor((s) => s.comments === 3), b.waitFor((s) => s.comments === 3)]);
    expect(JSON.parse(a.frames[0]?.data ?? '{}').heartbeatMs).toBe(15_000);
    a.close();
    b.close();
  });

  it('arrives on a real timer at the configured interval', async () => {
    server = await startTestServer({ heartbeatMs: 50 });
    const token = await server.token({ user: 'alice', scope: 'subscribe' });
    const stream = await RawStream.open(server.url, { token });
    await stream.waitFor((s) => s.comments >= 3, 5_000, '3 heartbeats');
    stream.close();
  });

  it('writes a large round in slices, yielding to the event loop between them', async () => {
    const timers = new ManualTimers();
    const registry = new Registry();
    let written = 0;
    const total = 2 * HEARTBEAT_SLICE + HEARTBEAT_SLICE / 2;
    for (let i = 0; i < total; i++) {
      const fake = {
        principal: { tokenId: `t${i}` },
        clientId: null,
        visibility: { user: `u${i}`, topics: [] },
        format: { heartbeat: () => Buffer.from(': hb\n') },
        write: () => {
          written++;
          return true;
        },
      };
      registry.add(fake as unknown as StreamSession);
    }
    const stop = startHeartbeat(registry, 15_000, timers);
    timers.tick();
    expect(written).toBe(HEARTBEAT_SLICE); // the first slice, synchronously
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(2 * HEARTBEAT_SLICE);
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(total);
    stop();
  });

  it('stops its timer when the server closes', async () => {
    const timers = new ManualTimers();
    server = await startTestServer({ deps: { timers } });
    await server.stop();
    expect(timers.intervals).toEqual([]);
  });
});
