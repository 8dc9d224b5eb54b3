/**
 * Finds `retry:` fields in a raw SSE byte stream. EventSource consumes them without telling its user,
 * but the agent owns reconnect timing, so it reads them off the tapped body itself.
 *
 * Only a line that starts with "retry:" is a retry field (data lines start with "data:", comments with
 * ":"), so a line scanner is enough; it buffers just the tail of a line that may still become one.
 */
const FIELD = 'retry:';
/** "retry:" plus a generous number of digits and a space: anything longer is not a retry we'd honour. */
const MAX_FIELD_CHARS = 40;

export class RetryFieldScanner {
  readonly #decoder = new TextDecoder();
  /** The current line so far, only while it could still be a retry field. */
  #partial = '';
  /** False once the current line can no longer be a retry field: skip to its end. */
  #candidate = true;
  #afterCR = false;

  /** Feeds one chunk; returns the retry values (ms) completed in it, in order. */
  push(chunk: Uint8Array): number[] {
    const text = this.#decoder.decode(chunk, { stream: true });
    const found: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === '\n' && this.#afterCR) {
        // The LF of a CRLF: the line already ended at the CR.
        this.#afterCR = false;
        continue;
      }
      this.#afterCR = ch === '\r';
      if (ch === '\n' || ch === '\r') {
        const value = this.#candidate ? parseRetryLine(this.#partial) : undefined;
        if (value !== undefined) found.push(value);
        this.#partial = '';
        this.#candidate = true;
        continue;
      }
      if (!this.#candidate) continue;
      this.#partial += ch;
      const stillPossible =
        this.#partial.length <= FIELD.length
          ? FIELD.startsWith(this.#partial)
          : this.#partial.startsWith(FIELD);
      if (!stillPossible || this.#partial.length > MAX_FIELD_CHARS) {
        this.#candidate = false;
        this.#partial = '';
      }
    }
    return found;
  }
}

/** Per the SSE spec: "retry" with a value of ASCII digits only (one optional leading space). */
function parseRetryLine(line: string): number | undefined {
  if (!line.startsWith(FIELD)) return undefined;
  let value = line.slice(FIELD.length);
  if (value.startsWith(' ')) value = value.slice(1);
  if (!/^\d+$/.test(value)) return undefined;
  const ms = Number(value);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
