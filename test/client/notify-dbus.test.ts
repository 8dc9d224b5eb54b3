import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interface as dbusInterface, type MessageBus, type Variant } from 'dbus-next';
import { afterEach, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../client/dispatcher.ts';
import { connectSessionBus, DbusNotifier, netBusAddress } from '../../client/notifier-dbus.ts';
import { DEFAULT_SETTINGS } from '../../client/policy.ts';
import { TocsinProcess } from '../helpers/client-cli.ts';
import { busEnv, missingInfrastructure, type PrivateBus, startPrivateBus } from '../helpers/client-dbus.ts';
import { makeAlarm } from '../helpers/client-sse-server.ts';
import { waitFor } from '../helpers/client-wait.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * The test is the desktop's notification server: it owns org.freedesktop.Notifications on a private
 * session bus and records every Notify call, then checks what `tocsin listen --notify` sent.
 */

interface NotifyCall {
  appName: string;
  replacesId: number;
  summary: string;
  body: string;
  hints: Record<string, Variant>;
  expireTimeout: number;
}

class FakeNotifications extends dbusInterface.Interface {
  readonly calls: NotifyCall[] = [];

  Notify(
    appName: string,
    replacesId: number,
    _icon: string,
    summary: string,
    body: string,
    _actions: string[],
    hints: Record<string, Variant>,
    expireTimeout: number,
  ): number {
    this.calls.push({ appName, replacesId, summary, body, hints, expireTimeout });
    return this.calls.length;
  }

  GetCapabilities(): string[] {
    return ['body'];
  }

  GetServerInformation(): string[] {
    return ['tocsin-test', 'tocsin', '1', '1.2'];
  }
}
FakeNotifications.configureMembers({
  methods: {
    Notify: { inSignature: 'susssasa{sv}i', outSignature: 'u' },
    GetCapabilities: { inSignature: '', outSignature: 'as' },
    GetServerInformation: { inSignature: '', outSignature: 'ssss' },
  },
});

async function ownNotifications(address: string): Promise<{ service: FakeNotifications; bus: MessageBus }> {
  const bus = connectSessionBus(address);
  const service = new FakeNotifications('org.freedesktop.Notifications');
  bus.export('/org/freedesktop/Notifications', service);
  await bus.requestName('org.freedesktop.Notifications', 0);
  return { service, bus };
}

describe('D-Bus address handling', () => {
  it('routes unix path and abstract addresses through the net transport, keeping other parts', () => {
    expect(netBusAddress('unix:path=/tmp/dbus-x,guid=abc')).toBe('unix:socket=/tmp/dbus-x,guid=abc');
    expect(netBusAddress('unix:abstract=/tmp/dbus-y,guid=1')).toBe('unix:socket=\u0000/tmp/dbus-y,guid=1');
    expect(netBusAddress('unix:path=/run/user/1000/bus;tcp:host=h,port=1')).toBe(
      'unix:socket=/run/user/1000/bus;tcp:host=h,port=1',
    );
    expect(netBusAddress('unix:path=/tmp/a%20b')).toBe('unix:socket=/tmp/a b');
  });
});

const skipReason = missingInfrastructure(['dbus-daemon'], 'D-Bus notification tests');

describe.skipIf(skipReason !== null)('desktop notifications over D-Bus', () => {
  let bus: PrivateBus | undefined;
  let owner: MessageBus | undefined;
  let srv: TestServer | undefined;
  let home: string | undefined;
  let listener: TocsinProcess | undefined;

  afterEach(async () => {
    await listener?.interrupt();
    owner?.disconnect();
    await srv?.dispose();
    await bus?.stop();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
    listener = undefined;
    owner = undefined;
    srv = undefined;
    bus = undefined;
    home = undefined;
  });

  it('tocsin listen --notify sends title, body and urgency to org.freedesktop.Notifications', async () => {
    bus = await startPrivateBus();
    const owned = await ownNotifications(bus.address);
    owner = owned.bus;
    srv = await startTestServer({ heartbeatMs: 500, retryMs: 50 });
    const sub = await srv.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const pub = await srv.token({ user: 'ci', scope: 'publish', topics: ['ops'] });
    home = await mkdtemp(join(tmpdir(), 'tocsin-notify-'));
    listener = new TocsinProcess(
      ['listen', srv.url, '--topics', 'ops', '--notify'],
      busEnv(bus.address, { HOME: home, TOCSIN_AGENT_STATE_DIR: home, TOCSIN_TOKEN: sub }),
    );
    await listener.waitForStderr(/tocsin: live/);

    await srv.publish(pub, {
      topic: 'ops',
      title: 'Database down',
      body: 'primary <db-1> & replica',
      priority: 5,
    });
    await waitFor('the first notification', () => owned.service.calls.length >= 1, 15_000);
    await srv.publish(pub, { topic: 'ops', title: 'Backup finished', priority: 2 });
    await waitFor('the second notification', () => owned.service.calls.length >= 2, 15_000);

    const [urgent, low] = owned.service.calls;
    expect(urgent).toMatchObject({
      appName: 'Tocsin',
      replacesId: 0,
      summary: 'Database down',
      body: 'primary &lt;db-1&gt; &amp; replica',
      // Urgent popups expire too, unless the user configured them sticky.
      expireTimeout: 10_000,
    });
    expect(urgent?.hints.urgency?.value).toBe(2);
    expect(urgent?.hints['sound-name']?.value).toBe('alarm-clock-elapsed');
    expect(low).toMatchObject({
      appName: 'Tocsin',
      summary: 'Backup finished',
      body: '#ops',
      expireTimeout: 10_000,
    });
    expect(low?.hints.urgency?.value).toBe(0);
    expect(low?.hints['suppress-sound']?.value).toBe(true);
    // The alarms were printed as well.
    expect(listener.lines).toHaveLength(2);
    expect(listener.stderr).not.toMatch(/cannot raise desktop notifications/);
  });

  it('a burst becomes a few notifications and one summary', async () => {
    bus = await startPrivateBus();
    const owned = await ownNotifications(bus.address);
    owner = owned.bus;
    const notifier = new DbusNotifier({ busAddress: bus.address });
    const dispatcher = new NotificationDispatcher({ notifier, settings: () => DEFAULT_SETTINGS });
    for (let i = 1; i <= 15; i++)
      dispatcher.push(makeAlarm({ id: String(i), priority: i === 7 ? 5 : 3 }), { replayed: true });
    expect(owned.service.calls).toHaveLength(0);
    dispatcher.releaseReplay();
    await dispatcher.flush();
    await notifier.close();
    expect(owned.service.calls.map((c) => c.summary)).toEqual([
      'alarm 7',
      'alarm 1',
      'alarm 2',
      '12 more alarms — open history',
    ]);
    expect(owned.service.calls.map((c) => c.hints.urgency?.value)).toEqual([2, 1, 1, 1]);
  });

  it('a 20/s flood and a 300-alarm urgent burst through tocsin listen --notify stay within the budget', async () => {
    bus = await startPrivateBus();
    const owned = await ownNotifications(bus.address);
    owner = owned.bus;
    srv = await startTestServer({
      heartbeatMs: 500,
      retryMs: 50,
      publishRateLimit: { max: 1_000_000, windowMs: 60_000 },
    });
    const sub = await srv.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const pub = await srv.token({ user: 'ci', scope: 'publish', topics: ['ops'] });
    home = await mkdtemp(join(tmpdir(), 'tocsin-notify-'));
    listener = new TocsinProcess(
      ['listen', srv.url, '--topics', 'ops', '--notify', '--since', 'none'],
      busEnv(bus.address, { HOME: home, TOCSIN_AGENT_STATE_DIR: home, TOCSIN_TOKEN: sub }),
    );
    await listener.waitForStderr(/tocsin: live/);
    const server = srv;
    // A steady 20 alarms a second for 10 s...
    const started = Date.now();
    for (let i = 1; i <= 200; i++) {
      await server.publish(pub, { topic: 'ops', title: `flood ${i}`, priority: 3 });
      const due = started + i * 50;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    // ...then 300 priority-5 alarms at once.
    for (let i = 0; i < 300; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          server.publish(pub, { topic: 'ops', title: `urgent ${i + j + 1}`, priority: 5 }),
        ),
      );
    }
    await listener.waitForLines(500);
    // Ctrl-C raises what the budget still held back, as one summary.
    expect(await listener.interrupt()).toBe(0);
    listener = undefined;

    const calls = owned.service.calls;
    const popups = calls.filter((c) => !/more alarms? — open history$/.test(c.summary));
    const summaries = calls.filter((c) => /more alarms? — open history$/.test(c.summary));
    // Budget: 4 at once + 6 a minute over ~15 s, and at most one summary per 30 s plus the final one.
    console.info(
      `storm: ${calls.length} Notify calls (${popups.length} popups, ${summaries.length} summaries) for 500 alarms`,
    );
    expect(popups.length).toBeLessThanOrEqual(4 + 2 + 1);
    expect(summaries.length).toBeLessThanOrEqual(3);
    expect(calls.length).toBeLessThanOrEqual(10);
    // Every alarm is accounted for: a popup of its own or counted in a summary.
    const summed = summaries.reduce((n, c) => n + Number(/^(\d+) more/.exec(c.summary)?.[1] ?? 0), 0);
    expect(popups.length + summed).toBe(500);
    // The alarm sound at most once; nothing stays on screen forever.
    expect(calls.filter((c) => c.hints['sound-name'] !== undefined).length).toBeLessThanOrEqual(1);
    expect(calls.every((c) => c.expireTimeout !== 0)).toBe(true);
  });

  it('without a notification server, says so with a code', async () => {
    bus = await startPrivateBus();
    const notifier = new DbusNotifier({ busAddress: bus.address });
    await expect(
      notifier.notify({
        kind: 'alarm',
        title: 't',
        body: '',
        urgency: 'normal',
        sound: 'default',
        alarmIds: ['1'],
      }),
    ).rejects.toMatchObject({ name: 'NotifierError', code: 'notifications-unavailable' });
    await notifier.close();
    await expect(
      new DbusNotifier({ busAddress: undefined }).notify({
        kind: 'notice',
        title: 't',
        body: '',
        urgency: 'normal',
        sound: 'none',
        alarmIds: [],
      }),
    ).rejects.toMatchObject({ code: 'notifications-unavailable' });
  });
});
