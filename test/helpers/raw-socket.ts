import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * A bare TCP client for slow-request tests: it writes exactly what it is told, when it is told, and
 * records everything the server sends and when the server closed the connection.
 */
export class RawSocket {
  received = '';
  closed = false;
  readonly socket: Socket;
  readonly #closedPromise: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
    });
    socket.on('error', () => {});
    this.#closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        resolve();
      });
    });
  }

  static async open(baseUrl: string, localAddress?: string): Promise<RawSocket> {
    const url = new URL(baseUrl);
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress });
    await once(socket, 'connect');
    return new RawSocket(socket);
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** Resolves when the server closed the connection (or rejects after `timeoutMs`). */
  async waitClosed(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#closedPromise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Resolves when `pattern` has been received (or rejects after `timeoutMs`). */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.received)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} after ${timeoutMs} ms: ${this.received}`);
      if (this.closed) throw new Error(`closed before ${pattern}: ${this.received}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
