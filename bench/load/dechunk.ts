/**
 * HTTP/1.1 chunked transfer decoding for the load workers' raw sockets, without copying: it hands
 * out the data bytes of each read as views of that read. Node writes one chunk per SSE frame, so
 * the scanner could once ignore the framing; a proxy (nginx) re-chunks at any byte, so a chunk-size
 * line can fall in the middle of an `id:` line and must be taken out first.
 */

const CR = 0x0d;
const LF = 0x0a;

export interface ChunkState {
  /** 'size': reading a chunk-size line; 'data': inside a chunk; 'crlf': the CRLF after its data. */
  mode: 'size' | 'data' | 'crlf';
  remaining: number;
  /** The chunk-size line so far (hex digits, maybe extensions), when split across reads. */
  line: string;
}

export function newChunkState(): ChunkState {
  return { mode: 'size', remaining: 0, line: '' };
}

/** Feeds one read; calls `data` with each run of body bytes (views of `input`, in order). */
export function dechunk(input: Buffer, state: ChunkState, data: (bytes: Buffer) => void): void {
  let i = 0;
  while (i < input.length) {
    if (state.mode === 'data') {
      const n = Math.min(state.remaining, input.length - i);
      if (n > 0) data(input.subarray(i, i + n));
      i += n;
      state.remaining -= n;
      if (state.remaining === 0) {
        state.mode = 'crlf';
        state.remaining = 2;
      }
    } else if (state.mode === 'crlf') {
      const c = input[i] as number;
      i++;
      if (c === LF || --state.remaining === 0) {
        state.mode = 'size';
        state.remaining = 0;
      }
    } else {
      const lf = input.indexOf(LF, i);
      if (lf === -1) {
        state.line += input.toString('latin1', i);
        return;
      }
      const end = lf > i && input[lf - 1] === CR ? lf - 1 : lf;
      const line = state.line + input.toString('latin1', i, end);
      state.line = '';
      i = lf + 1;
      const size = Number.parseInt(line.split(';')[0]?.trim().replace(/\r$/, '') ?? '', 16);
      if (!Number.isFinite(size) || size === 0) continue; // the last chunk (or a blank line): no data
      state.mode = 'data';
      state.remaining = size;
    }
  }
}
