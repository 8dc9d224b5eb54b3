import { afterEach, describe, expect, it } from 'vitest';
import { RawSocket } from '../helpers/raw-socket.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer | undefined;
const sockets: RawSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.dispose();
  server = undefined;
});

async function open(localAddress?: string): Promise<RawSocket> {
  const socket = await RawSocket.open((server as TestServer).url, localAddress);
  sockets.push(socket);
  return socket;
}

const postHead = (token: string | null, length: number) =>
  'POST /v1/alarms HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n' +
  `${token === null ? '' : `Authorization: Bearer ${token}\r\n`}Content-Length: ${length}\r\n\r\n`;

describe('slow and stalled requests', () => {
  it('closes a connection whose headers never finish', async () => {
    server = await startTestServer({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const socket = await open();
    socket.write('POST /v1/alarms HTTP/1.1\r\nHost: test\r\n');
    await socket.waitClosed(10_000);
  }, 20_000);

  it('closes an authenticated request whose body trickles in, and stores nothing', async () => {
    server = await startTestServer({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const socket = await open();
    const body = JSON.stringify({ title: 'trickled', user: 'admin' }).padEnd(200, ' ');
    socket.write(postHead(server.adminToken, body.length));
    let sent = 0;
    const drip = setInterval(() => socket.write(body.charAt(sent++)), 100);
    try {
      await socket.waitClosed(10_000);
    } finally {
      clearInterval(drip);
    }
    expect(sent).toBeLessThan(body.length);
    const history = await fetch(`${server.url}/v1/alarms`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(((await history.json()) as { alarms: unknown[] }).alarms).toEqual([]);
  }, 20_000);

  it('answers 401 and closes at once when an unauthenticated body never comes', async () => {
    // Timeouts far beyond the test's own bound: only the 401 path can close this socket in time.
    server = await startTestServer({ headersTimeoutMs: 60_000, requestTimeoutMs: 120_000 });
    for (const token of [null, 'tcs_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const socket = await open();
      socket.write(postHead(token, 100_000));
      socket.write('{"title":');
      await socket.waitClosed(10_000);
      expect(socket.received).toMatch(/^HTTP\/1\.1 401 /);
      expect(socket.received).toMatch(/\r\nconnection: close\r\n/i);
    }
  }, 30_000);

  it('does not cut a stream that lives longer than the request timeout', async () => {
    server = await startTestServer({ headersTimeoutMs: 200, requestTimeoutMs: 300, heartbeatMs: 200 });
    const socket = await open();
    socket.write(
      `GET /v1/stream?topics=ops HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${server.adminToken}\r\n\r\n`,
    );
    await socket.waitFor(/event: ready/, 10_000);
    // Long past both timeouts and several checking intervals, the stream still delivers.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.publish(server.adminToken, { title: 'still here', topic: 'ops' });
    await socket.waitFor(/still here/, 10_000);
    expect(socket.closed).toBe(false);
  }, 30_000);

  it('caps open connections per client address, and other addresses are unaffected', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 5 });
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await open());
    const refused = await open();
    refused.write('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n');
    await refused.waitClosed(10_000);
    expect(refused.received).toBe('');

    // Another loopback address has its own budget.
    const other = await open('127.0.0.2');
    other.write('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n');
    await other.waitFor(/^HTTP\/1\.1 200 /, 10_000);

    // A slot freed is a slot available again.
    held[0]?.destroy();
    await held[0]?.waitClosed(10_000);
    let again: RawSocket | undefined;
    for (let attempt = 0; attempt < 50 && again === undefined; attempt++) {
      const candidate = await open();
      candidate.write('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n');
      try {
        await candidate.waitFor(/^HTTP\/1\.1 200 /, 5_000);
        again = candidate;
      } catch {
        // The server may not have seen the close yet.
      }
    }
    expect(again?.received).toMatch(/^HTTP\/1\.1 200 /);
  }, 60_000);

  it('behind a proxy (--trust-proxy) leaves the cap to the proxy unless one is set', async () => {
    server = await startTestServer({ trustProxy: true });
    for (let i = 0; i < 260; i++) await open();
    const last = await open();
    last.write('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n');
    await last.waitFor(/^HTTP\/1\.1 200 /, 10_000);
  }, 60_000);
});
