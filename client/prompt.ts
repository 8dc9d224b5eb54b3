import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

const MAX_SECRET_BYTES = 64 * 1024;

/** Everything on stdin (a piped token), trimmed; bounded so a wrong pipe cannot eat all memory. */
export async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    size += buffer.byteLength;
    if (size > MAX_SECRET_BYTES) throw new RangeError(`stdin is larger than ${MAX_SECRET_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Asks on a terminal without echoing the answer (a token must not stay on screen or in scrollback). */
export function promptHidden(
  question: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        if (!muted) output.write(chunk);
        callback();
      },
    });
    const rl = createInterface({ input, output: sink, terminal: true });
    rl.on('SIGINT', () => {
      rl.close();
      output.write('\n');
      reject(new Error('cancelled'));
    });
    output.write(question);
    muted = true;
    rl.question('', (answer) => {
      muted = false;
      output.write('\n');
      rl.close();
      resolve(answer.trim());
    });
  });
}
