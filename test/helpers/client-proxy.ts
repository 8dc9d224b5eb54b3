import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  frozen: boolean;
}

/**
 * What the proxy does with a new connection:
 * - `forward`: to the target;
 * - `refuse`: accept and reset at once (the port is there, nothing serves it);
 * - `blackhole`: accept and never answer (a SYN into a dead route, a mute middlebox);
 * - `{ status }`: answer that HTTP status itself and close (a reverse proxy's 404 or 502).
 */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole' | { readonly status: number };

/**
 * A TCP proxy between the agent and a server, with the faults a laptop meets: `freeze()` makes
 * existing connections half-open (bytes dropped both ways, sockets left open, as when a NAT forgets
 * a connection or a laptop sleeps); `cut()` ends them; `cutEvery()` ends every connection at a
 * given age (a load balancer's maximum connection age); `setMode()` decides what new ones get.
 */
export interface FaultProxy {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open right now. */
  readonly open: number;
  freeze(): void;
  /** Ends every open connection (FIN to both sides). */
  cut(): void;
  /** From now on, ends each connection `ms` after it was accepted; 0 turns it off. */
  cutEvery(ms: number): void;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  const held = new Set<Socket>();
  let connections = 0;
  let mode: ProxyMode = 'forward';
  let maxAgeMs = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') {
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    if (typeof mode === 'object') {
      const status = mode.status;
      client.once('data', () => {
        const body = `<html><body>${status} from the proxy</body></html>`;
        client.end(
          `HTTP/1.1 ${status} Proxy Says ${status}\r\ncontent-type: text/html\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      return;
    }
    const upstream = connect(Number(port), hostname);
    const pair: Pair = { client, upstream, frozen: false };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (!pair.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.frozen) client.write(chunk);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A frozen pair hides even closes: that is what makes it half-open.
    client.on('close', () => {
      if (!pair.frozen) end();
      else pairs.delete(pair);
    });
    upstream.on('close', () => {
      if (!pair.frozen) end();
    });
    upstream.on('error', () => {});
    if (maxAgeMs > 0) {
      const timer = setTimeout(() => {
        if (!pair.frozen) {
          // A clean end, as a load balancer does at its maximum connection age.
          client.end();
          upstream.end();
          setTimeout(end, 100).unref();
        }
      }, maxAgeMs);
      timer.unref();
      client.on('close', () => clearTimeout(timer));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    get open() {
      return [...pairs].filter((p) => !p.client.destroyed).length;
    },
    freeze() {
      for (const pair of pairs) pair.frozen = true;
    },
    cut() {
      for (const pair of [...pairs]) {
        pair.frozen = false;
        pair.client.end();
        pair.upstream.end();
      }
    },
    cutEvery(ms: number) {
      maxAgeMs = ms;
    },
    setMode(next: ProxyMode) {
      mode = next;
      if (next === 'forward') {
        for (const socket of held) socket.destroy();
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
