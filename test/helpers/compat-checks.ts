import { afterEach, expect, it } from 'vitest';
import type { ClientDriver, ClientHandle, ClientRecord } from './compat-clients.ts';
import { startTestServer, type TestServer } from './server.ts';

export interface CompatTarget {
  /** The Tocsin server (SQLite) the client reaches, directly or through a proxy. */
  server: () => TestServer;
  /** The stream URL the client opens for `topic` (the base may be a proxy's). */
  streamUrl: (topic: string) => string;
}

const WAIT = { timeout: 20_000, interval: 100 };
let serial = 0;

async function framesWritten(server: TestServer): Promise<number> {
  const metric = await server.server.context.metrics.framesWritten.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/**
 * The compatibility checks every client must pass: connect, live delivery, heartbeats keep it up,
 * a server restart with exactly-once resume, and a clean stop on a bad token. Registers `it`s.
 */
export function compatibilityChecks(driver: ClientDriver, target: CompatTarget) {
  const open: ClientHandle[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close().catch(() => {})));
  });

  /** A fresh user and topic per check: nothing else publishes there. */
  async function subscriber() {
    serial++;
    const topic = `${driver.name.replace(/[^A-Za-z0-9]+/g, '-')}-${serial}`;
    const token = await target
      .server()
      .token({ user: `u${serial}-${Date.now()}`, scope: 'subscribe', topics: [topic] });
    const client = await driver.open(target.streamUrl(topic), token);
    open.push(client);
    return { topic, client };
  }

  const titles = (rec: ClientRecord) => rec.alarms.map((a) => a.title);

  it(`${driver.name}: connects, delivers live alarms, and heartbeats keep the same connection up`, async () => {
    const server = target.server();
    const { topic, client } = await subscriber();
    await expect.poll(async () => (await client.state()).readies, WAIT).toBe(1);
    const a = await server.publish(server.adminToken, { topic, title: 'a' });
    await expect.poll(async () => titles(await client.state()), WAIT).toEqual(['a']);

    // Only heartbeats for a while (several rounds), then one more alarm on the same connection.
    const before = await framesWritten(server);
    await expect.poll(() => framesWritten(server), WAIT).toBeGreaterThanOrEqual(before + 4);
    const b = await server.publish(server.adminToken, { topic, title: 'b' });
    await expect.poll(async () => titles(await client.state()), WAIT).toEqual(['a', 'b']);
    const rec = await client.state();
    expect(rec.alarms).toEqual([
      { id: a.id, title: 'a' },
      { id: b.id, title: 'b' },
    ]);
    expect(rec.opens).toBe(1);
    expect(rec.errors).toBe(0);
    // Heartbeats and retry: must not reach the page as messages (fetch-event-source dispatches an
    // empty one for every blank line, so Tocsin sends neither as a frame of its own).
    expect(rec.empty).toBe(0);
  }, 40_000);

  it(`${driver.name}: after a server restart resumes with exactly what it missed`, async () => {
    const server = target.server();
    const { topic, client } = await subscriber();
    await expect.poll(async () => (await client.state()).readies, WAIT).toBe(1);
    await server.publish(server.adminToken, { topic, title: 'before' });
    await expect.poll(async () => titles(await client.state()), WAIT).toEqual(['before']);

    await server.stop();
    // The client noticed (its stream ended: one error) and tried again at least once while the
    // server was down (a refused connection, or a proxy's answer: a second error).
    await expect.poll(async () => (await client.state()).errors, WAIT).toBeGreaterThanOrEqual(2);
    // Alarms stored while it was away: another process on the same database publishes them.
    const side = await startTestServer({ dataDir: server.dataDir });
    await side.publish(side.adminToken, { topic, title: 'missed 1' });
    await side.publish(side.adminToken, { topic, title: 'missed 2' });
    await side.dispose();
    await server.restart();

    await expect
      .poll(async () => titles(await client.state()), WAIT)
      .toEqual(['before', 'missed 1', 'missed 2']);
    // A sentinel: anything replayed twice would arrive before it.
    await server.publish(server.adminToken, { topic, title: 'after' });
    await expect
      .poll(async () => titles(await client.state()), WAIT)
      .toEqual(['before', 'missed 1', 'missed 2', 'after']);
    const rec = await client.state();
    expect(new Set(rec.alarms.map((a) => a.id)).size).toBe(4);
    expect(rec.closed).toBe(false);
    expect(rec.readies).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it(`${driver.name}: stops on a bad token instead of retrying`, async () => {
    serial++;
    const client = await driver.open(target.streamUrl(`bad-${serial}`), `tcs_000000000000_${'A'.repeat(43)}`);
    open.push(client);
    await expect.poll(async () => (await client.state()).closed, WAIT).toBe(true);
    const rec = await client.state();
    expect(rec.opens).toBe(0);
    expect(rec.alarms).toEqual([]);
    if (rec.failure !== 'closed') expect(rec.failure).toMatch(/401/);
  }, 30_000);
}
