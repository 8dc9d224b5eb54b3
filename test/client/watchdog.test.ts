import { describe, expect, it } from 'vitest';
import { Watchdog } from '../../client/watchdog.ts';
import { ManualClock } from '../helpers/client-clock.ts';

describe('heartbeat watchdog', () => {
  it('fires once after the allowed silence, not before', () => {
    const clock = new ManualClock();
    let fired = 0;
    new Watchdog(clock, 2_500, () => fired++);
    clock.advance(2_499);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    clock.advance(100_000);
    expect(fired).toBe(1);
  });

  it('any activity postpones it by the full interval', () => {
    const clock = new ManualClock();
    let fired = 0;
    const dog = new Watchdog(clock, 2_500, () => fired++);
    for (let i = 0; i < 10; i++) {
      clock.advance(2_000);
      dog.feed();
    }
    expect(fired).toBe(0);
    clock.advance(2_499);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
  });

  it('reset() changes the interval from now; stop() disarms', () => {
    const clock = new ManualClock();
    let fired = 0;
    const dog = new Watchdog(clock, 30_000, () => fired++);
    clock.advance(1_000);
    dog.reset(250);
    clock.advance(249);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);

    const other = new Watchdog(clock, 100, () => fired++);
    other.stop();
    clock.advance(1_000);
    expect(fired).toBe(1);
    expect(clock.pending()).toEqual([]);
  });
});
