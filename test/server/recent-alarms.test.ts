import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { RecentAlarms } from '../../server/recent-alarms.ts';
import { sseFormat } from '../../server/stream-format.ts';

const sse = sseFormat(3_000);
const alarm = (id: number): Alarm => ({
  id: String(id),
  time: 1_700_000_000_000 + id,
  topic: 'ops',
  title: `alarm ${id}`,
  priority: 3,
  tags: [],
});
const compare = (a: string, b: string) => Number(a) - Number(b);
const who = { user: 'u', topics: ['ops'] };

describe('recent alarms window', () => {
  it('encodes a frame only when a stream first needs it, and once', () => {
    const recent = new RecentAlarms({ maxAlarms: 10, maxBytes: 1 << 20 }, compare);
    recent.start(null);
    const entry = recent.add(alarm(1));
    recent.settle();
    expect(entry.bytes).toBe(0);
    const first = entry.frame(sse);
    expect(entry.frame(sse)).toBe(first);
    expect(entry.bytes).toBe(first.length);
    // A replay reads the same bytes the fan-out would have written.
    expect(recent.page(null, who, sse, 1 << 20).frames).toEqual([first]);
  });

  it('holds at most maxBytes of frames, counted as they are encoded, and only while in the window', () => {
    const frameBytes = sse.alarm(alarm(1)).length;
    const recent = new RecentAlarms({ maxAlarms: 100, maxBytes: frameBytes * 3 }, compare);
    recent.start(null);
    const entries = [1, 2, 3, 4, 5].map((id) => {
      const entry = recent.add(alarm(id));
      recent.settle();
      return entry;
    });
    // Nothing encoded yet: only the count limit applies.
    expect(recent.size).toBe(5);
    // A replay encodes 2–5; the next arrival evicts down to the byte limit (1 held no frame).
    expect(recent.page('1', who, sse, 1 << 20).frames).toHaveLength(4);
    recent.add(alarm(6));
    recent.settle();
    expect(recent.size).toBe(4);
    expect(recent.covers('1')).toBe(false);
    expect(recent.covers('2')).toBe(true);
    // A stream still holding an evicted entry encodes another format from it: not the window's bytes.
    entries[1]?.frame(sseFormat(1_000));
    recent.add(alarm(7));
    recent.settle();
    expect(recent.size).toBe(5);
    // 6 and 7 encoded by a replay: two frames over, two evicted.
    expect(recent.page('5', who, sse, 1 << 20).frames).toHaveLength(2);
    recent.add(alarm(8));
    recent.settle();
    expect(recent.size).toBe(4);
    expect(recent.covers('4')).toBe(true);
    expect(recent.covers('3')).toBe(false);
  });

  it('keeps the count limit whatever was encoded', () => {
    const recent = new RecentAlarms({ maxAlarms: 2, maxBytes: 1 << 20 }, compare);
    recent.start(null);
    for (let id = 1; id <= 4; id++) {
      recent.add(alarm(id));
      recent.settle();
    }
    expect(recent.size).toBe(2);
    expect(recent.covers('2')).toBe(true);
    expect(recent.covers('1')).toBe(false);
  });
});
