import { describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../client/dispatcher.ts';
import { MemoryNotifier, type Notifier, NotifierError } from '../../client/notifier.ts';
import { DEFAULT_SETTINGS, type NotificationSettings } from '../../client/policy.ts';
import { ManualClock } from '../helpers/client-clock.ts';
import { makeAlarm } from '../helpers/client-sse-server.ts';

function setup(settings: NotificationSettings = DEFAULT_SETTINGS) {
  const clock = new ManualClock();
  const notifier = new MemoryNotifier();
  const dispatcher = new NotificationDispatcher({
    notifier,
    clock,
    settings: () => settings,
    burstWindowMs: 400,
  });
  return { clock, notifier, dispatcher };
}

describe('notification dispatcher', () => {
  it('holds replayed alarms until ready, then raises one coalesced batch', async () => {
    const { notifier, dispatcher } = setup();
    for (let i = 1; i <= 10; i++) dispatcher.push(makeAlarm({ id: String(i) }), { replayed: true });
    await Promise.resolve();
    expect(notifier.shown).toEqual([]);
    dispatcher.releaseReplay();
    await dispatcher.flush();
    expect(notifier.shown.map((t) => t.title)).toEqual([
      'alarm 1',
      'alarm 2',
      'alarm 3',
      '7 more alarms — open history',
    ]);
  });

  it('batches live alarms arriving within the burst window', async () => {
    const { clock, notifier, dispatcher } = setup();
    dispatcher.push(makeAlarm({ id: '1', priority: 3 }), { replayed: false });
    clock.advance(100);
    for (let i = 2; i <= 6; i++)
      dispatcher.push(makeAlarm({ id: String(i), priority: i === 6 ? 5 : 3 }), { replayed: false });
    clock.advance(299);
    await Promise.resolve();
    expect(notifier.shown).toEqual([]);
    clock.advance(1);
    await dispatcher.flush();
    expect(notifier.shown.map((t) => t.alarmIds)).toEqual([['6'], ['1'], ['2'], ['3', '4', '5']]);

    // A lone alarm after the window is its own batch.
    dispatcher.push(makeAlarm({ id: '7' }), { replayed: false });
    clock.advance(400);
    await dispatcher.flush();
    expect(notifier.shown.at(-1)?.alarmIds).toEqual(['7']);
  });

  it('respects pause read at batch time, and raises notices', async () => {
    let settings: NotificationSettings = DEFAULT_SETTINGS;
    const clock = new ManualClock();
    const notifier = new MemoryNotifier();
    const dispatcher = new NotificationDispatcher({ notifier, clock, settings: () => settings });
    settings = { ...DEFAULT_SETTINGS, pausedUntil: clock.now() + 60_000 };
    dispatcher.push(makeAlarm({ id: '1', priority: 4 }), { replayed: false });
    dispatcher.push(makeAlarm({ id: '2', priority: 5 }), { replayed: false });
    await dispatcher.flush();
    expect(notifier.shown.map((t) => t.alarmIds)).toEqual([['2']]);
    dispatcher.notice('Some alarms may be missing', 'the server was reset');
    await dispatcher.flush();
    expect(notifier.shown.at(-1)).toMatchObject({ kind: 'notice', title: 'Some alarms may be missing' });
  });

  it('judges a pause when the alarm arrives, not when its batch is raised after the pause ended', async () => {
    const clock = new ManualClock();
    const notifier = new MemoryNotifier();
    const settings = { ...DEFAULT_SETTINGS, pausedUntil: clock.now() + 200 };
    const dispatcher = new NotificationDispatcher({
      notifier,
      clock,
      settings: () => settings,
      burstWindowMs: 400,
    });
    clock.advance(100);
    dispatcher.push(makeAlarm({ id: '1', priority: 3 }), { replayed: false }); // during the pause
    clock.advance(400); // the batch is raised at 500 ms, after the pause ended at 200 ms
    dispatcher.push(makeAlarm({ id: '2', priority: 3 }), { replayed: false }); // after the pause
    clock.advance(400);
    await dispatcher.flush();
    expect(notifier.shown.map((t) => t.alarmIds)).toEqual([['2']]);
  });

  it('a backlog (first run, a server reset) is one summary, not a popup each', async () => {
    const { notifier, dispatcher } = setup();
    for (let i = 1; i <= 40; i++)
      dispatcher.push(makeAlarm({ id: String(i) }), { replayed: true, backlog: true, recovered: false });
    dispatcher.push(makeAlarm({ id: '41' }), { replayed: true });
    dispatcher.releaseReplay();
    await dispatcher.flush();
    expect(notifier.shown.map((t) => t.title)).toEqual(['40 alarms from before — open history', 'alarm 41']);
    expect(notifier.shown[0]?.sound).toBe('none');
  });

  it('a storm costs a bounded number of popups: the budget, then one summary per interval', async () => {
    const { clock, notifier, dispatcher } = setup();
    // 20 alarms a second for 30 s, one priority-5 in every ten.
    let id = 0;
    for (let s = 0; s < 30; s++) {
      for (let i = 0; i < 20; i++) {
        id += 1;
        dispatcher.push(makeAlarm({ id: String(id), priority: id % 10 === 0 ? 5 : 3 }), { replayed: false });
        clock.advance(50);
      }
    }
    clock.advance(60_000);
    await dispatcher.flush();
    const popups = notifier.shown.filter((t) => t.kind === 'alarm');
    const summaries = notifier.shown.filter((t) => t.kind === 'summary');
    // 4 at once, 6 a minute after that: 7 within 30 s; one summary per 30 s.
    expect(popups.length).toBeLessThanOrEqual(4 + 3 + 1);
    expect(summaries.length).toBeLessThanOrEqual(3);
    // Every alarm is accounted for: shown alone or counted in a summary.
    const covered = new Set(notifier.shown.flatMap((t) => t.alarmIds));
    expect(covered.size).toBe(600);
    expect(summaries.every((t) => t.sound === 'none' && t.sticky === false)).toBe(true);
    // Urgent first: once the first burst is spent, only priority-5 alarms get a popup of their own.
    expect(popups.slice(3).length).toBeGreaterThan(0);
    expect(popups.slice(3).every((t) => t.urgency === 'critical')).toBe(true);
  });

  it('throttles the alarm sound and makes popups expire unless urgent ones are configured sticky', async () => {
    let settings: NotificationSettings = DEFAULT_SETTINGS;
    const clock = new ManualClock();
    const notifier = new MemoryNotifier();
    const dispatcher = new NotificationDispatcher({ notifier, clock, settings: () => settings });
    for (let i = 1; i <= 3; i++)
      dispatcher.push(makeAlarm({ id: String(i), priority: 5 }), { replayed: false });
    await dispatcher.flush();
    expect(notifier.shown.filter((t) => t.kind === 'alarm').map((t) => t.sound)).toEqual([
      'alarm',
      'none',
      'none',
    ]);
    expect(notifier.shown.every((t) => t.sticky !== true)).toBe(true);

    settings = { ...DEFAULT_SETTINGS, stickyUrgent: true };
    clock.advance(120_000);
    dispatcher.push(makeAlarm({ id: '9', priority: 5 }), { replayed: false });
    await dispatcher.flush();
    expect(notifier.shown.at(-1)).toMatchObject({ alarmIds: ['9'], sticky: true, sound: 'alarm' });
  });

  it('strips control characters from what it shows', async () => {
    const { notifier, dispatcher } = setup();
    dispatcher.push(makeAlarm({ id: '1', title: 'a\u001b[31mred\u0007', body: 'x\u009b2Jy\nnext' }), {
      replayed: false,
    });
    await dispatcher.flush();
    expect(notifier.shown[0]).toMatchObject({ title: 'a[31mred', body: 'x2Jy\nnext' });
  });

  it('keeps going when the notifier fails, reporting each failure', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const failing: Notifier = {
      async notify() {
        calls++;
        throw new NotifierError('notifications-unavailable', 'no notification server');
      },
      async close() {},
    };
    const dispatcher = new NotificationDispatcher({
      notifier: failing,
      clock: new ManualClock(),
      settings: () => DEFAULT_SETTINGS,
      onError: (error) => errors.push(error),
    });
    dispatcher.push(makeAlarm({ id: '1' }), { replayed: false });
    dispatcher.push(makeAlarm({ id: '2' }), { replayed: false });
    await dispatcher.flush();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: 'notifications-unavailable' });
  });
});
