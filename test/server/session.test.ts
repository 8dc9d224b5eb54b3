import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type DisconnectReason, StreamSession } from '../../server/session.ts';
import { sseFormat } from '../../server/stream-format.ts';
import { RawStream } from '../helpers/sse-client.ts';

const principal = { tokenId: 't', user: 'u', scope: 'subscribe' as const, topics: null };

/** A bare node:http server whose single handler hands its response to the test. */
async function withResponse(): Promise<{ res: ServerResponse; client: RawStream; close: () => void }> {
  let resolveRes!: (res: ServerResponse) => void;
  const gotRes = new Promise<ServerResponse>((r) => {
    resolveRes = r;
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    resolveRes(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = await RawStream.open(url);
  return { res: await gotRes, client, close: () => server.close() };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function session(res: ServerResponse, closes: DisconnectReason[], maxBufferedBytes = 1 << 20, now = () => 0) {
  return new StreamSession(
    res,
    {
      principal,
      visibility: { user: 'u', topics: [] },
      format: sseFormat(3000),
      after: null,
      clientId: null,
    },
    {
      maxBufferedBytes,
      maxFrameBytes: 16 * 1024,
      slowConsumerGraceMs: 1_000,
      now,
      compareIds: (a, b) => Number(a) - Number(b),
      onFrame: () => {},
      onClose: (_s, reason) => closes.push(reason),
    },
  );
}

describe('SseSession write guard', () => {
  it('turns a write after the response ended into a no-op, not an unhandled error', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const closes: DisconnectReason[] = [];
    const s = session(res, closes);
    res.end(); // ended behind the session's back
    expect(s.write(': late\n\n')).toBe(false);
    expect(s.write(': later\n\n')).toBe(false);
    // An 'error' emitted on a later tick or after the I/O phase would have crashed by now.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(closes).toEqual(['client-closed']);
    client.close();
  });

  it('closes once when the peer resets the connection, and ignores writes after', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const closes: DisconnectReason[] = [];
    const s = session(res, closes);
    client.reset();
    await new Promise<void>((r) => res.once('close', () => r()));
    for (let i = 0; i < 10; i++) s.write(`data: ${i}\n\n`);
    expect(closes).toEqual(['client-closed']);
    expect(s.closed).toBe(true);
  });

  it('drops a stream at once when its unflushed bytes pass 4× the cap', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const closes: DisconnectReason[] = [];
    const s = session(res, closes, 64 * 1024);
    client.pause();
    const frame = `data: ${'x'.repeat(16 * 1024)}\n\n`;
    let writes = 0;
    // Loopback kernel buffers absorb a few MB first; the cap applies to what Node holds beyond them.
    while (!s.closed && writes < 10_000) {
      s.write(frame);
      writes++;
    }
    expect(closes).toEqual(['slow-consumer']);
    expect(res.destroyed).toBe(true);
    expect(res.socket === null || res.socket.destroyed).toBe(true);
  });

  it('tolerates a burst over the cap for the grace period, then drops a reader that stays behind', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const closes: DisconnectReason[] = [];
    let clock = 0;
    const s = session(res, closes, 64 * 1024, () => clock);
    client.pause();
    const frame = `data: ${'x'.repeat(8 * 1024)}\n\n`;
    // Fill until Node itself holds more than the cap (but less than 4×).
    while (res.writableLength <= 64 * 1024) s.write(frame);
    expect(s.closed).toBe(false);
    clock += 999;
    s.write(': hb\n\n');
    expect(s.closed).toBe(false);
    clock += 1;
    s.write(': hb\n\n');
    expect(closes).toEqual(['slow-consumer']);
  });

  it('keeps a reader that is behind but still taking bytes: judged by progress, not by queue size', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const closes: DisconnectReason[] = [];
    let clock = 0;
    const s = session(res, closes, 64 * 1024, () => clock);
    client.pause();
    const frame = `data: ${'x'.repeat(8 * 1024)}\n\n`;
    while (res.writableLength <= 64 * 1024) s.write(frame);
    for (let round = 0; round < 5; round++) {
      // The reader takes a little (less than what is queued), then stalls again.
      const before = res.writableLength;
      client.socket.resume();
      await new Promise<void>((r) => {
        const check = () => (res.writableLength < before ? r() : setImmediate(check));
        check();
      });
      client.socket.pause();
      clock += 900; // each sip within the grace period of the last
      s.write(frame);
      expect(s.closed).toBe(false);
    }
    expect(clock).toBeGreaterThan(1_000); // longer than one grace period in all
    expect(closes).toEqual([]);
    client.close();
  });

  it('forgives a burst once the reader drains it', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const closes: DisconnectReason[] = [];
    let clock = 0;
    const s = session(res, closes, 64 * 1024, () => clock);
    client.pause();
    const frame = `data: ${'x'.repeat(8 * 1024)}\n\n`;
    while (res.writableLength <= 64 * 1024) s.write(frame);
    client.response.resume();
    client.socket.resume();
    await new Promise<void>((r) => res.once('drain', () => r()));
    clock += 10_000;
    s.write(': hb\n\n');
    expect(s.closed).toBe(false);
    expect(closes).toEqual([]);
    client.close();
  });

  it('buffers live alarms during replay and skips those the replay already sent', async () => {
    const { res, client, close } = await withResponse();
    cleanups.push(close);
    const s = session(res, []);
    const alarm = (id: string) => ({ id, time: 0, title: id, priority: 3, tags: [] });
    const frame = (id: string) => Buffer.from(`event: alarm\nid: ${id}\ndata: {}\n\n`);
    const frames = (id: string) => () => frame(id);
    s.deliver(alarm('2'), frames('2')); // arrives during replay
    s.deliver(alarm('3'), frames('3'));
    s.writeReplayed('2', '2', Buffer.concat([frame('1'), frame('2')])); // replay, one page
    s.goLive();
    s.deliver(alarm('3'), frames('3')); // a duplicate from the fan-out
    s.deliver(alarm('4'), frames('4'));
    await client.waitFor((c) => c.frames.length === 4);
    expect(client.frames.map((f) => f.id)).toEqual(['1', '2', '3', '4']);
    client.close();
  });
});
