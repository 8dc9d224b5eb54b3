import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  frozen: boolean;
}

/**
 * A TCP proxy between the agent and a server that can make existing connections half-open: after
 * `freeze()` their bytes are silently dropped in both directions while both sockets stay open, as
 * when a NAT or proxy forgets a connection or a laptop sleeps. New connections forward normally.
 */
export interface FaultProxy {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open right now. */
  readonly open: number;
  freeze(): void;
  /** Cuts every open connection with a TCP reset, as a network outage does; new ones pass normally. */
  reset(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections += 1;
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
    client.on('error', () => {});
    upstream.on('error', () => {});
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
    reset() {
      const cut = pairs.size;
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
      return cut;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
