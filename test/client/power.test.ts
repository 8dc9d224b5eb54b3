import { describe, expect, it } from 'vitest';
import { DriftDetector, PowerEventHub } from '../../client/power.ts';
import { ManualClock } from '../helpers/client-clock.ts';

describe('sleep detection by timer drift', () => {
  it('reports a tick that arrives far later than scheduled, and nothing while ticks are on time', () => {
    const clock = new ManualClock();
    const drifts: number[] = [];
    const detector = new DriftDetector(clock, { intervalMs: 5_000, thresholdMs: 30_000 }, (late) =>
      drifts.push(late),
    );
    detector.start();
    clock.advance(60_000);
    expect(drifts).toEqual([]);

    // The machine sleeps: no timer runs, the wall clock moves 10 minutes, the monotonic one does not.
    clock.jump(10 * 60_000);
    clock.advance(5_000);
    expect(drifts).toHaveLength(1);
    expect(drifts[0]).toBe(10 * 60_000);

    clock.advance(60_000);
    expect(drifts).toHaveLength(1);
    detector.stop();
    expect(clock.pending()).toEqual([]);
  });

  it('reports a wall clock stepped back (NTP, a manual change) as drift too', () => {
    const clock = new ManualClock();
    const drifts: number[] = [];
    const detector = new DriftDetector(clock, { intervalMs: 5_000, thresholdMs: 30_000 }, (d) =>
      drifts.push(d),
    );
    detector.start();
    clock.advance(2_000);
    clock.step(-2 * 60_000);
    clock.advance(3_000);
    expect(drifts).toEqual([-2 * 60_000]);
    detector.stop();
  });

  it('ignores lateness below the threshold', () => {
    const clock = new ManualClock();
    const drifts: number[] = [];
    const detector = new DriftDetector(clock, { intervalMs: 5_000, thresholdMs: 30_000 }, (late) =>
      drifts.push(late),
    );
    detector.start();
    clock.jump(29_000);
    clock.advance(5_000);
    expect(drifts).toEqual([]);
    detector.stop();
  });

  it('a hub fans power events out to subscribers until they unsubscribe', () => {
    const hub = new PowerEventHub();
    const seen: string[] = [];
    const off = hub.subscribe((e) => seen.push(e));
    hub.emit('suspend');
    hub.emit('resume');
    off();
    hub.emit('offline');
    expect(seen).toEqual(['suspend', 'resume']);
  });
});
