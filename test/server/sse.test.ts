import { describe, expect, it } from 'vitest';
import { encodeEvent, encodeRetryField, HEARTBEAT_FRAME } from '../../server/sse.ts';

describe('SSE encoding', () => {
  it('writes event, id and one data line per line of text, ending with a blank line', () => {
    expect(encodeEvent('alarm', '{"a":1}', '7')).toBe('event: alarm\nid: 7\ndata: {"a":1}\n\n');
    expect(encodeEvent('ready', 'x')).toBe('event: ready\ndata: x\n\n');
  });

  it.each([
    ['LF', 'a\n\nevent: forged\ndata: x', 'data: a\ndata: \ndata: event: forged\ndata: data: x\n'],
    ['CRLF', 'a\r\nid: 99', 'data: a\ndata: id: 99\n'],
    ['lone CR', 'a\rretry: 1', 'data: a\ndata: retry: 1\n'],
  ])('keeps %s in data from ending the frame or forging fields', (_name, data, expected) => {
    const frame = encodeEvent('alarm', data, '1');
    expect(frame).toBe(`event: alarm\nid: 1\n${expected}\n`);
    // Exactly one blank line: the frame's own terminator.
    expect(frame.split(/\r\n|\r|\n/).filter((l) => l === '').length).toBe(2);
  });

  it('refuses multi-line event names and ids (server-controlled fields)', () => {
    expect(() => encodeEvent('alarm', 'x', '1\n2')).toThrow(TypeError);
    expect(() => encodeEvent('alarm\nid: 3' as 'alarm', 'x')).toThrow(TypeError);
  });

  it('encodes retry as a field line and heartbeats as a comment line that dispatches nothing', () => {
    expect(encodeRetryField(2500.7)).toBe('retry: 2500\n');
    expect(HEARTBEAT_FRAME).toBe(': hb\n');
    // No blank line: fetch-event-source would report a blank-line-terminated comment as an empty message.
    expect(HEARTBEAT_FRAME.includes('\n\n')).toBe(false);
  });
});
