import { describe, expect, it } from 'vitest';
import { NotificationBudget } from '../../client/notification-budget.ts';

describe('notification budget', () => {
  it('allows a burst, then refills at the rate per minute, keeping the last popup for urgent alarms', () => {
    const budget = new NotificationBudget({ burst: 4, perMinute: 6 });
    const taken = [0, 0, 0, 0].map(() => budget.takePopup(0));
    // Ordinary alarms leave the last token alone; an urgent one may take it.
    expect(taken).toEqual([true, true, true, false]);
    expect(budget.takePopup(0, true)).toBe(true);
    expect(budget.takePopup(0, true)).toBe(false);
    // 6 a minute: one every 10 s.
    expect(budget.takePopup(9_999, true)).toBe(false);
    expect(budget.takePopup(10_000, true)).toBe(true);
    // Never more than the burst, however long the quiet.
    const later = [1, 2, 3, 4, 5].map(() => budget.takePopup(3_600_000, true));
    expect(later).toEqual([true, true, true, true, false]);
  });

  it('plays the alarm sound at most once per interval, the ordinary sound at most once per its own', () => {
    const budget = new NotificationBudget({ alarmSoundIntervalMs: 60_000, soundIntervalMs: 5_000 });
    expect(budget.sound('alarm', 0)).toBe('alarm');
    expect(budget.sound('alarm', 1_000)).toBe('none');
    expect(budget.sound('alarm', 5_000)).toBe('default');
    expect(budget.sound('default', 6_000)).toBe('none');
    expect(budget.sound('alarm', 60_000)).toBe('alarm');
    expect(budget.sound('none', 200_000)).toBe('none');
  });

  it('spaces summaries by the interval', () => {
    const budget = new NotificationBudget({ summaryIntervalMs: 30_000 });
    expect(budget.summaryWait(0)).toBe(0);
    budget.summaryRaised(0);
    expect(budget.summaryWait(10_000)).toBe(20_000);
    expect(budget.summaryWait(30_000)).toBe(0);
  });
});
