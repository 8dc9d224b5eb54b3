// Tray-host detection against a private session bus, with and without a fake
// org.kde.StatusNotifierWatcher, and the policy the app follows without a tray.
import { interface as dbusInterface, type MessageBus } from 'dbus-next';
import { afterEach, describe, expect, it } from 'vitest';
import {
  hasStatusNotifierHost,
  type TrayHostWatch,
  trayPolicy,
  WATCHER_NAME,
  WATCHER_PATH,
  watchTrayHost,
} from '../../client/desktop/tray-host.ts';
import { connectSessionBus } from '../../client/notifier-dbus.ts';
import { missingInfrastructure, type PrivateBus, startPrivateBus } from '../helpers/client-dbus.ts';
import { waitFor } from '../helpers/client-wait.ts';

class FakeWatcher extends dbusInterface.Interface {
  hostRegistered: boolean;
  constructor(hostRegistered: boolean) {
    super(WATCHER_NAME);
    this.hostRegistered = hostRegistered;
  }
  get IsStatusNotifierHostRegistered(): boolean {
    return this.hostRegistered;
  }
  get ProtocolVersion(): number {
    return 0;
  }
  RegisterStatusNotifierItem(_service: string): void {}
}
FakeWatcher.configureMembers({
  properties: {
    IsStatusNotifierHostRegistered: { signature: 'b', access: 'read' },
    ProtocolVersion: { signature: 'i', access: 'read' },
  },
  methods: { RegisterStatusNotifierItem: { inSignature: 's', outSignature: '' } },
});

async function ownWatcher(address: string, hostRegistered: boolean): Promise<MessageBus> {
  const bus = connectSessionBus(address);
  bus.export(WATCHER_PATH, new FakeWatcher(hostRegistered));
  await bus.requestName(WATCHER_NAME, 0);
  return bus;
}

describe('trayPolicy', () => {
  it('trusts the tray on macOS and Windows, honouring --hidden', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      expect(trayPolicy({ platform, hostPresent: null, startedAtLogin: true })).toEqual({
        trayAvailable: true,
        startHidden: true,
        quitWhenAllWindowsClosed: false,
      });
    }
  });

  it('on Linux without a StatusNotifier host: ignores --hidden and quits with the last window', () => {
    for (const hostPresent of [false, null]) {
      expect(trayPolicy({ platform: 'linux', hostPresent, startedAtLogin: true })).toEqual({
        trayAvailable: false,
        startHidden: false,
        quitWhenAllWindowsClosed: true,
      });
    }
    expect(trayPolicy({ platform: 'linux', hostPresent: true, startedAtLogin: true }).startHidden).toBe(true);
    expect(trayPolicy({ platform: 'linux', hostPresent: true, startedAtLogin: false }).startHidden).toBe(
      false,
    );
  });
});

// The StatusNotifier question exists only on Linux desktops (macOS and Windows always have a tray).
const skipReason =
  process.platform === 'linux'
    ? missingInfrastructure(['dbus-daemon'])
    : 'D-Bus tray hosts are a Linux matter';
if (skipReason !== null) console.warn(`SKIPPED tray-host D-Bus tests: ${skipReason}`);

describe.skipIf(skipReason !== null)('StatusNotifier host detection on a private session bus', () => {
  let bus: PrivateBus | undefined;
  const clients: MessageBus[] = [];
  let watch: TrayHostWatch | undefined;

  afterEach(async () => {
    watch?.stop();
    watch = undefined;
    for (const client of clients.splice(0)) client.disconnect();
    await bus?.stop();
    bus = undefined;
  });

  it('finds no host on a bare bus (vanilla GNOME)', async () => {
    bus = await startPrivateBus();
    const client = connectSessionBus(bus.address);
    clients.push(client);
    expect(await hasStatusNotifierHost(client)).toBe(false);
  });

  it('finds a host when the watcher says one is registered, and none when it says not', async () => {
    bus = await startPrivateBus();
    const owner = await ownWatcher(bus.address, true);
    clients.push(owner);
    const client = connectSessionBus(bus.address);
    clients.push(client);
    expect(await hasStatusNotifierHost(client)).toBe(true);

    const other = await startPrivateBus();
    try {
      const lonely = await ownWatcher(other.address, false);
      const asker = connectSessionBus(other.address);
      expect(await hasStatusNotifierHost(asker)).toBe(false);
      asker.disconnect();
      lonely.disconnect();
    } finally {
      await other.stop();
    }
  });

  it('notices a panel that starts after the app (login still settling)', async () => {
    bus = await startPrivateBus();
    const seen: boolean[] = [];
    watch = await watchTrayHost({
      address: bus.address,
      onChange: (present) => seen.push(present),
      recheckMs: [],
    });
    expect(watch.present).toBe(false);
    const owner = await ownWatcher(bus.address, true);
    clients.push(owner);
    await waitFor('the host to appear', () => seen.length > 0);
    expect(seen).toEqual([true]);
    expect(watch.present).toBe(true);
    owner.disconnect();
    clients.pop();
    await waitFor('the host to go', () => seen.length > 1);
    expect(seen).toEqual([true, false]);
  });

  it('reports no host when there is no session bus at all', async () => {
    const none = await watchTrayHost({ address: undefined, onChange: () => {} });
    expect(none.present).toBe(false);
  });
});
