import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idToNumber } from '../../bench/load/alarm-id.ts';
import { newScanState, scan } from '../../bench/load/sse-scanner.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

/**
 * The bench's load workers read thousands of streams with a byte scanner, not with the tests' SSE
 * reader (RawStream decodes every frame to strings, which 10 000 streams cannot afford). This holds
 * the scanner to the tests' reader on a real server's stream: replay, live alarms, heartbeats, the
 * `ready` event, bodies that look like SSE fields, cut into reads at every boundary.
 */
describe('bench SSE scanner', () => {
  let server: TestServer;
  let stream: RawStream;

  beforeAll(async () => {
    server = await startTestServer({ heartbeatMs: 100 });
    const bodies = ['plain', 'id: 999\nevent: ready\n: not a comment', 'ünïcödé 🚨'];
    const first = await server.publish(server.adminToken, { topic: 'ops', title: 'before', body: bodies[0] });
    await server.publish(server.adminToken, { topic: 'ops', title: 'replayed', body: bodies[1] });
    stream = await RawStream.open(server.url, {
      token: server.adminToken,
      topics: ['ops'],
      lastEventId: first.id,
    });
    await stream.waitForEvent('ready');
    for (const [i, body] of bodies.entries()) {
      await server.publish(server.adminToken, { topic: 'ops', title: `live ${i}`, body });
    }
    await stream.waitForAlarms(4);
    await stream.waitFor((s) => s.comments >= 2, 5_000, 'two heartbeats');
    stream.close();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('finds the ids, the ready event and the heartbeats the SSE reader found, however the bytes arrive', () => {
    const wire = Buffer.from(stream.raw);
    const expected = stream.alarmIds().map(idToNumber);
    expect(expected).toHaveLength(4);
    for (let cut = 1; cut < wire.length; cut += 3) {
      for (const second of [cut, Math.min(wire.length, cut + 11)]) {
        const state = newScanState();
        const ids: number[] = [];
        let ready = 0;
        const events = { onId: (id: number) => ids.push(id), onReady: () => ready++, onGap: () => {} };
        for (const read of [wire.subarray(0, cut), wire.subarray(cut, second), wire.subarray(second)])
          scan(read, state, events);
        expect(ids, `cut at ${cut}/${second}`).toEqual(expected);
        expect(ready).toBe(1);
        expect(state.heartbeats).toBe(stream.comments);
      }
    }
  });
});
