import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const STREAMS = 200;
const ALARMS = 1_000;

let server: TestServer | undefined;
const streams: RawStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await server?.dispose();
  server = undefined;
});

describe('vanishing clients are routine', () => {
  it(`survives ${STREAMS / 2} of ${STREAMS} streams dying abruptly during a ${ALARMS}-alarm burst`, async () => {
    server = await startTestServer({
      maxStreamsPerToken: STREAMS * 2,
      // Every stream and publisher connects from loopback: the test stands for many client hosts.
      maxConnectionsPerIp: 0,
      publishRateLimit: { max: 1_000_000, windowMs: 60_000 },
    });
    const s = server;
    const token = await s.token({ user: 'ops', scope: 'subscribe', topics: ['storm'] });
    for (let i = 0; i < STREAMS; i++) streams.push(await RawStream.open(s.url, { token }));
    await Promise.all(streams.map((st) => st.waitForEvent('ready')));
    const doomed = streams.filter((_, i) => i % 2 === 1);
    const survivors = streams.filter((_, i) => i % 2 === 0);

    const published: string[] = [];
    const publishBatch = async (from: number, to: number) => {
      const batch = await Promise.all(
        Array.from({ length: to - from }, (_, i) =>
          s.publish(s.adminToken, { topic: 'storm', title: `a${from + i}` }),
        ),
      );
      published.push(...batch.map((r) => r.id));
    };
    // Kill the doomed streams in waves while the burst is in flight: some mid-batch, some between.
    const waves = 5;
    const perBatch = ALARMS / 20;
    for (let b = 0; b < 20; b++) {
      const inFlight = publishBatch(b * perBatch, (b + 1) * perBatch);
      if (b % 4 === 1) {
        const wave = doomed.slice(
          ((b - 1) / 4) * (doomed.length / waves),
          ((b - 1) / 4 + 1) * (doomed.length / waves),
        );
        for (const st of wave) st.reset();
      }
      await inFlight;
    }
    expect(published).toHaveLength(ALARMS);
    const all = [...published].sort((a, b) => Number(a) - Number(b));

    // The server is up and every survivor got every alarm, once, in order.
    await Promise.all(survivors.map((st) => st.waitForAlarms(ALARMS, 15_000)));
    for (const st of survivors) expect(st.alarmIds()).toEqual(all);
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);

    // Every vanished client gets exactly what it missed when it comes back.
    for (const dead of doomed) {
      const seen = dead.alarmIds();
      expect(seen).toEqual(all.slice(0, seen.length)); // what it saw before dying was a clean prefix
      const back = await RawStream.open(s.url, {
        token,
        ...(seen.length > 0 && { lastEventId: seen.at(-1) }),
      });
      streams.push(back);
      await back.waitForEvent('ready');
      expect(back.alarmIds()).toEqual(all.slice(seen.length));
      back.close();
    }

    // Not one error-level log line: a broken pipe is not an error.
    expect(s.logs.filter((l) => l.level >= 50)).toEqual([]);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const closedByClient = /tocsin_stream_disconnects_total\{reason="client-closed"\} (\d+)/.exec(metrics);
    const writeErrors = /tocsin_stream_disconnects_total\{reason="write-error"\} (\d+)/.exec(metrics);
    expect(Number(closedByClient?.[1]) + Number(writeErrors?.[1])).toBeGreaterThanOrEqual(STREAMS / 2);
  }, 60_000);
});
