/**
 * A loopback TCP proxy for the agent's fault measures: `cut()` ends every connection (a server that
 * died, a NAT reset), `refuse(true)` resets new ones (nothing listens), `cutEvery(ms)` ends each
 * connection at that age (a load balancer's maximum connection age). Otherwise it forwards.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class FaultProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  #refusing = false;
  #maxAgeMs = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static start(targetHost: string, targetPort: number): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server);
    server.on('connection', (client) => proxy.#accept(client, targetHost, targetPort));
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(proxy)));
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  refuse(on: boolean): void {
    this.#refusing = on;
  }

  cutEvery(ms: number): void {
    this.#maxAgeMs = ms;
  }

  cut(): void {
    for (const pair of [...this.#pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, host: string, port: number): void {
    client.on('error', () => {});
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host, port });
    const pair = { client, upstream };
    this.#pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
    if (this.#maxAgeMs > 0) {
      const timer = setTimeout(() => {
        // A clean end, as a load balancer does at its maximum connection age.
        client.end();
        upstream.end();
      }, this.#maxAgeMs);
      client.on('close', () => clearTimeout(timer));
    }
  }
}
