import { describe, expect, it } from 'vitest';
import { dechunk, newChunkState } from '../../bench/load/dechunk.ts';

const encode = (parts: string[]) =>
  `${parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('')}`;

describe('bench chunked decoding', () => {
  const body = ['id: 1796017428556-0\nevent: alarm\ndata: {"a":1}\n\n', ': hb\n\n', 'id: 1796017428557-13\n'];
  const wire = Buffer.from(encode(body));

  it('gives back exactly the body, whatever the read boundaries (a proxy re-chunks anywhere)', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      for (const second of [cut, Math.min(wire.length, cut + 7)]) {
        const state = newChunkState();
        const out: Buffer[] = [];
        for (const read of [wire.subarray(0, cut), wire.subarray(cut, second), wire.subarray(second)])
          dechunk(read, state, (bytes) => out.push(Buffer.from(bytes)));
        expect(Buffer.concat(out).toString(), `cut at ${cut}/${second}`).toBe(body.join(''));
      }
    }
  });

  it('accepts chunk extensions and upper-case hex', () => {
    const state = newChunkState();
    const out: string[] = [];
    dechunk(Buffer.from('A;ext=1\r\n0123456789\r\n0\r\n\r\n'), state, (b) => out.push(b.toString()));
    expect(out.join('')).toBe('0123456789');
  });
});
