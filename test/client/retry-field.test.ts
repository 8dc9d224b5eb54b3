import { describe, expect, it } from 'vitest';
import { RetryFieldScanner } from '../../client/retry-field.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function scan(chunks: string[]): number[] {
  const scanner = new RetryFieldScanner();
  return chunks.flatMap((chunk) => scanner.push(bytes(chunk)));
}

describe('retry: field scanner', () => {
  it('finds retry fields with LF, CRLF and CR line ends', () => {
    expect(scan(['retry: 3000\n\n'])).toEqual([3000]);
    expect(scan(['retry:250\r\n\r\n'])).toEqual([250]);
    expect(scan(['retry: 7\r\r'])).toEqual([7]);
  });

  it('handles a field split across chunks, even between CR and LF', () => {
    expect(scan(['re', 'try: 1', '2', '34\r', '\nretry: 5\n'])).toEqual([1234, 5]);
  });

  it('ignores data, comments, other fields and invalid values', () => {
    const stream = [
      ': hb\n\n',
      'event: alarm\nid: 1\ndata: {"title":"retry: 99"}\n\n',
      'data: retry: 42\n\n',
      'retry: 12a\n',
      'retry: -5\n',
      'retry:\n',
      'xretry: 8\n',
      'retry: 100\n',
    ];
    expect(scan(stream)).toEqual([100]);
  });

  it('does not buffer long lines', () => {
    expect(scan([`data: ${'x'.repeat(100_000)}`, '\nretry: 1\n'])).toEqual([1]);
  });
});
