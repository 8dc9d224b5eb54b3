import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../client/dedup.ts';
import {
  DEFAULT_SETTINGS,
  type NotificationSettings,
  planNotifications,
  soundFor,
  urgencyFor,
} from '../../client/policy.ts';
import type { Alarm } from '../../protocol/index.ts';
import { makeAlarm } from '../helpers/client-sse-server.ts';

const NOW = Date.UTC(2025, 0, 1, 12);

function batch(priorities: number[]): Alarm[] {
  return priorities.map((priority, i) => makeAlarm({ id: String(100 + i), priority, time: NOW - 1_000 + i }));
}

describe('priority → urgency and sound', () => {
  it.each([
    [1, 'low', 'none'],
    [2, 'low', 'none'],
    [3, 'normal', 'default'],
    [4, 'normal', 'default'],
    [5, 'critical', 'alarm'],
  ] as const)('priority %i → %s, sound %s', (priority, urgency, sound) => {
    expect(urgencyFor(priority)).toBe(urgency);
    expect(soundFor(priority)).toBe(sound);
  });
});

describe('pause (do not disturb)', () => {
  const paused: NotificationSettings = { ...DEFAULT_SETTINGS, pausedUntil: NOW + 60_000 };

  it.each([
    // settings, priorities, expected shown priorities, expected silenced count
    ['not paused', DEFAULT_SETTINGS, [3, 5], [5, 3], 0],
    ['paused', { ...paused, urgentPiercesPause: false }, [3, 5], [], 2],
    ['paused, urgent pierces', paused, [1, 3, 4, 5], [5], 3],
    ['pause already over', { ...paused, pausedUntil: NOW }, [3], [3], 0],
    ['below minimum priority', { ...DEFAULT_SETTINGS, minPriority: 3 }, [1, 2, 3], [3], 2],
  ])('%s', (_name, settings, priorities, shown, silenced) => {
    const alarms = batch(priorities);
    const plan = planNotifications(alarms, settings, NOW);
    const priorityOf = new Map(alarms.map((a) => [a.id, a.priority]));
    expect(plan.toasts.map((t) => priorityOf.get(t.alarmIds[0] ?? ''))).toEqual(shown);
    expect(plan.silenced).toHaveLength(silenced);
  });
});

describe('burst coalescing', () => {
  it.each([
    // batch size, maxToasts, individual toasts, summary count
    [1, 4, 1, null],
    [4, 4, 4, null],
    [5, 4, 3, 2],
    [15, 4, 3, 12],
    [15, 1, 0, 15],
  ])(
    '%i alarms with maxToasts %i → %i individual + summary of %s',
    (size, maxToasts, individual, summarised) => {
      const alarms = batch(Array.from({ length: size }, (_, i) => (i % 5) + 1));
      const plan = planNotifications(alarms, { ...DEFAULT_SETTINGS, maxToasts }, NOW);
      const singles = plan.toasts.filter((t) => t.kind === 'alarm');
      const summaries = plan.toasts.filter((t) => t.kind === 'summary');
      expect(singles).toHaveLength(individual);
      expect(summaries).toHaveLength(summarised === null ? 0 : 1);
      if (summarised !== null) {
        expect(summaries[0]?.title).toBe(`${summarised} more ${summarised === 1 ? 'alarm' : 'alarms'}`);
        expect(summaries[0]?.alarmIds).toHaveLength(summarised);
        expect(plan.toasts.at(-1)?.kind).toBe('summary');
      }
      // Every alarm is accounted for exactly once.
      const ids = plan.toasts.flatMap((t) => t.alarmIds);
      expect(new Set(ids).size).toBe(size);
    },
  );

  it('shows the most urgent individually, oldest first among equals, and sums up the rest', () => {
    const alarms = [
      makeAlarm({ id: '1', priority: 2, time: NOW + 1 }),
      makeAlarm({ id: '2', priority: 5, time: NOW + 2 }),
      makeAlarm({ id: '3', priority: 4, time: NOW + 3 }),
      makeAlarm({ id: '4', priority: 5, time: NOW + 4 }),
      makeAlarm({ id: '5', priority: 3, time: NOW + 5 }),
      makeAlarm({ id: '6', priority: 1, time: NOW + 6 }),
    ];
    const plan = planNotifications(alarms, { ...DEFAULT_SETTINGS, maxToasts: 3 }, NOW);
    expect(plan.toasts.map((t) => t.alarmIds)).toEqual([['2'], ['4'], ['3', '5', '1', '6']]);
    const summary = plan.toasts[2];
    expect(summary?.title).toBe('4 more alarms');
    expect(summary?.body).toBe('alarm 3, alarm 5, alarm 1 and 1 more');
    expect(summary?.urgency).toBe('normal');
    expect(summary?.sound).toBe('none');
    expect(plan.toasts[0]).toMatchObject({ urgency: 'critical', sound: 'alarm', title: 'alarm 2' });
  });

  it('an individual toast carries body, link and falls back to the topic', () => {
    const [withBody, bare] = planNotifications(
      [
        makeAlarm({ id: '7', body: 'disk full', url: 'https://example.com/x', priority: 4 }),
        makeAlarm({ id: '8', topic: 'db', priority: 3 }),
      ],
      DEFAULT_SETTINGS,
      NOW,
    ).toasts;
    expect(withBody).toMatchObject({ kind: 'alarm', body: 'disk full', url: 'https://example.com/x' });
    expect(bare).toMatchObject({ kind: 'alarm', body: '#db' });
  });
});

describe('de-duplication by id', () => {
  it.each([
    ['no duplicates', ['1', '2', '3'], ['1', '2', '3']],
    ['an immediate repeat', ['1', '1', '2'], ['1', '2']],
    ['a replay overlapping what was shown', ['1', '2', '3', '2', '3', '4'], ['1', '2', '3', '4']],
    ['redis-style ids', ['1-0', '1-1', '1-0'], ['1-0', '1-1']],
  ])('%s', (_name, arriving, delivered) => {
    const seen = new RecentIds(100);
    expect(arriving.filter((id) => seen.add(id))).toEqual(delivered);
  });

  it('is bounded: the oldest ids are forgotten first', () => {
    const seen = new RecentIds(3, ['a', 'b']);
    seen.add('c');
    seen.add('d');
    expect(seen.size).toBe(3);
    expect(seen.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => seen.has(id))).toBe(true);
  });
});
