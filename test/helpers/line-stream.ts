/**
 * A streaming HTTP response read line by line (ntfy's /json and /raw), with waits that fail with a
 * clear message instead of hanging. Real fetch, real socket.
 */
export class LineStream {
  readonly lines: string[] = [];
  readonly status: number;
  readonly headers: Headers;
  #ended = false;
  readonly #abort: AbortController;

  private constructor(response: Response, abort: AbortController) {
    this.status = response.status;
    this.headers = response.headers;
    this.#abort = abort;
    void this.#pump(response);
  }

  static async open(url: string, init: RequestInit = {}): Promise<LineStream> {
    const abort = new AbortController();
    const response = await fetch(url, { ...init, signal: abort.signal });
    return new LineStream(response, abort);
  }

  async #pump(response: Response): Promise<void> {
    if (response.body === null) {
      this.#ended = true;
      return;
    }
    const decoder = new TextDecoder();
    let partial = '';
    try {
      for await (const chunk of response.body) {
        partial += decoder.decode(chunk as Uint8Array, { stream: true });
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        this.lines.push(...parts);
      }
    } catch {
      // aborted by close(), or the server cut the connection
    }
    this.#ended = true;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Every line parsed as JSON (ntfy's /json). */
  events(): Record<string, unknown>[] {
    return this.lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  messages(): Record<string, unknown>[] {
    return this.events().filter((e) => e.event === 'message');
  }

  async waitFor(predicate: (s: LineStream) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(this.lines)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  waitForMessages(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((s) => s.messages().length >= count, `${count} messages`, timeoutMs);
  }

  waitForEnd(timeoutMs?: number): Promise<void> {
    return this.waitFor((s) => s.ended, 'the end of the response', timeoutMs);
  }

  close(): void {
    this.#abort.abort();
  }
}
