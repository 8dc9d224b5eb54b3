/**
 * A minimal HTTP/1.1 keep-alive client over one `node:net` socket, one request in flight at a time
 * (a publisher waits for its ack). The publish measures need tens of thousands of requests a second
 * from a process that shares two cores with the server under test; node:http's client costs several
 * times more CPU per request than this, which would make the load generator the bottleneck.
 */
import { connect, type Socket } from 'node:net';

export interface HttpResponse {
  status: number;
  body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;
const CONNECTION_CLOSE = /\r\nconnection:\s*close/i;

export class KeepAliveClient {
  readonly #host: string;
  readonly #port: number;
  readonly #localAddress: string;
  #socket: Socket | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve: (r: HttpResponse) => void; reject: (e: Error) => void } | null = null;

  constructor(host: string, port: number, localAddress: string) {
    this.#host = host;
    this.#port = port;
    this.#localAddress = localAddress;
  }

  #open(): Socket {
    const socket = connect({ host: this.#host, port: this.#port, localAddress: this.#localAddress });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#answered = true;
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const lost = (error?: Error) => {
      // A socket we already let go of (Connection: close) must not fail the next request.
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#buffer = Buffer.alloc(0);
      const pending = this.#pending;
      this.#pending = null;
      pending?.reject(error ?? new Error('connection closed'));
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    this.#socket = socket;
    return socket;
  }

  #parse(): void {
    const end = this.#buffer.indexOf(HEAD_END);
    if (end === -1) return;
    const head = this.#buffer.toString('latin1', 0, end + 2);
    const length = CONTENT_LENGTH.exec(head);
    if (length === null) {
      // The servers under test always send a length for these small JSON answers.
      const why = CHUNKED.test(head) ? 'chunked answer' : 'answer without content-length';
      this.#socket?.destroy(new Error(`unsupported ${why}`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.#buffer.length < total) return;
    const response: HttpResponse = {
      status: Number(head.slice(9, 12)),
      body: this.#buffer.toString('utf8', end + 4, total),
    };
    this.#buffer = this.#buffer.subarray(total);
    if (CONNECTION_CLOSE.test(head)) {
      const socket = this.#socket;
      this.#socket = null;
      socket?.destroy();
    }
    const pending = this.#pending;
    this.#pending = null;
    pending?.resolve(response);
  }

  /** Opens the connection ahead of the first request (so a later request never waits for a handshake). */
  connect(): Promise<void> {
    if (this.#socket !== null) return Promise.resolve();
    const socket = this.#open();
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
  }

  /**
   * Sends one request. A server may close an idle keep-alive connection just as we reuse it (Node's
   * http server does after 5 s): when a reused connection fails before any answer byte, the request
   * was not read, so it is sent once more on a fresh connection, as HTTP clients do.
   */
  async request(bytes: Buffer): Promise<HttpResponse> {
    const reused = this.#socket !== null;
    try {
      return await this.#send(bytes);
    } catch (error) {
      if (!reused || this.#answered) throw error;
      return this.#send(bytes);
    }
  }

  #answered = false;

  #send(bytes: Buffer): Promise<HttpResponse> {
    if (this.#pending !== null) return Promise.reject(new Error('one request at a time'));
    const socket = this.#socket ?? this.#open();
    this.#answered = false;
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      socket.write(bytes);
    });
  }

  close(): void {
    this.#socket?.resetAndDestroy();
    this.#socket = null;
  }
}

export function postJson(host: string, port: number, path: string, token: string, json: string): Buffer {
  const body = Buffer.from(json);
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
}
