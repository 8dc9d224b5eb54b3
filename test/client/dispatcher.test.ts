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
    expect(notifier.shown.map((t) => t.title)).toEqual(['alarm 1', 'alarm 2', 'alarm 3', '7 more alarms']);
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
