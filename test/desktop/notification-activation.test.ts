// Windows Action Center clicks: handled once, by the live notification or else by the history window.
import { describe, expect, it } from 'vitest';
import { LateActivation } from '../../client/desktop/notification-activation.ts';
import { ManualClock } from '../helpers/client-clock.ts';

describe('LateActivation', () => {
  it('leaves a click the live notification handled (before or after the activation) alone', () => {
    const clock = new ManualClock();
    let fallbacks = 0;
    const late = new LateActivation({ clock, fallback: () => fallbacks++ });
    late.handled();
    late.activated();
    clock.advance(1_000);
    late.activated();
    clock.advance(200);
    late.handled();
    clock.advance(1_000);
    expect(fallbacks).toBe(0);
  });

  it('opens the history for a click on a toast whose Notification is gone', () => {
    const clock = new ManualClock();
    let fallbacks = 0;
    const late = new LateActivation({ clock, fallback: () => fallbacks++ });
    late.handled(); // an old click, long ago
    clock.advance(3_600_000);
    late.activated();
    clock.advance(999);
    expect(fallbacks).toBe(0);
    clock.advance(1);
    expect(fallbacks).toBe(1);
    late.activated();
    late.dispose();
    clock.advance(5_000);
    expect(fallbacks).toBe(1);
  });
});
