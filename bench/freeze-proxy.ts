/**
 * A loopback TCP proxy that can make its current connections half-open: `freeze()` stops forwarding
 * in both directions without closing anything, as a NAT that forgot the flow or a Wi-Fi that went
 * away does. Connections opened after the freeze pass normally (the agent's reconnect must work).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class FreezeProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static start(targetHost: string, targetPort: number): Promise<FreezeProxy> {
    const server = createServer();
    const proxy = new FreezeProxy(server);
    server.on('connection', (client) => proxy.#pipe(client, targetHost, targetPort));
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(proxy)));
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  #pipe(client: Socket, host: string, port: number): void {
    const upstream = connect({ host, port });
    const pair = { client, upstream, frozen: false };
    this.#pairs.add(pair);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (!pair.frozen) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  /** Silences every connection open now; they stay open until an end gives up on them. */
  freeze(): number {
    for (const pair of this.#pairs) pair.frozen = true;
    return this.#pairs.size;
  }

  close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
