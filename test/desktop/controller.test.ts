import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialError, type CredentialStore, MemoryCredentialStore } from '../../client/credentials.ts';
import { DesktopController, type DesktopDeps } from '../../client/desktop/controller.ts';
import type { ServerChild } from '../../client/desktop/self-hosted.ts';
import { trayIcon } from '../../client/desktop/tray-menu.ts';
import type { SelfHostedView } from '../../client/desktop/ui-state.ts';
import { MemoryNotifier } from '../../client/notifier.ts';
import { ManualClock } from '../helpers/client-clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forkServer } from './fork-server.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-desktop-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  cleanups.push(() => s.dispose());
  return s;
}

interface Harness {
  controller: DesktopController;
  notifier: MemoryNotifier;
  opened: string[];
  historyShown: number;
}

async function desktop(dataDir: string, over: Partial<DesktopDeps> = {}): Promise<Harness> {
  const notifier = new MemoryNotifier();
  const h: Harness = {
    controller: undefined as unknown as DesktopController,
    notifier,
    opened: [],
    historyShown: 0,
  };
  h.controller = new DesktopController({
    dataDir,
    credentials: new MemoryCredentialStore(),
    notifier,
    openExternal: async (url) => {
      h.opened.push(url);
    },
    showHistory: () => {
      h.historyShown++;
    },
    ...over,
  });
  await h.controller.start();
  cleanups.push(() => h.controller.stop());
  return h;
}

const live = (h: Harness) =>
  expect.poll(() => h.controller.getState().connection.status, { timeout: 10_000 }).toBe('live');

describe('desktop controller: sign-in', () => {
  it.each([
    ['invalid-url', () => ({ serverUrl: 'not a url', token: 'x' })],
    ['unreachable', () => ({ serverUrl: 'http://127.0.0.1:1', token: 'tcs_x' })],
  ] as const)('answers %s clearly', async (code, request) => {
    const h = await desktop(await tmp());
    const result = await h.controller.signIn(request());
    expect(result).toMatchObject({ ok: false, code });
    expect(h.controller.getState().server).toBeNull();
  });

  it('rejects a bad token and a publish-only token, and stores nothing', async () => {
    const s = await server();
    const credentials = new MemoryCredentialStore();
    const h = await desktop(await tmp(), { credentials });
    expect(
      await h.controller.signIn({ serverUrl: s.url, token: `tcs_000000000000_${'A'.repeat(43)}` }),
    ).toMatchObject({
      ok: false,
      code: 'bad-token',
    });
    const publishOnly = await s.token({ user: 'alice', scope: 'publish' });
    expect(await h.controller.signIn({ serverUrl: s.url, token: publishOnly })).toMatchObject({
      ok: false,
      code: 'forbidden',
    });
    expect(await credentials.get(s.url)).toBeNull();
  });

  it('sends sign-in and the stream through the injected fetch (Electron: net.fetch, the system proxy)', async () => {
    const s = await server();
    const urls: string[] = [];
    const injected: typeof fetch = (input, init) => {
      urls.push(new URL(String(input instanceof Request ? input.url : input)).pathname);
      return fetch(input, init);
    };
    const h = await desktop(await tmp(), { fetch: injected });
    const token = await s.token({ user: 'dora', scope: 'subscribe' });
    expect(await h.controller.signIn({ serverUrl: s.url, token })).toEqual({ ok: true, user: 'dora' });
    await live(h);
    expect(urls).toContain('/v1/me');
    expect(urls).toContain('/v1/stream');
  });

  it('says so when the keychain cannot keep the token', async () => {
    const s = await server();
    const broken: CredentialStore = {
      kind: 'os-keychain',
      get: async () => null,
      set: async () => {
        throw new CredentialError('keychain-unavailable', 'No Secret Service is running on the session bus.');
      },
      delete: async () => false,
    };
    const h = await desktop(await tmp(), { credentials: broken });
    const token = await s.token({ user: 'alice', scope: 'subscribe' });
    expect(await h.controller.signIn({ serverUrl: s.url, token })).toEqual({
      ok: false,
      code: 'keychain-unavailable',
      message: 'No Secret Service is running on the session bus.',
    });
  });
});

describe('desktop controller: alarms', () => {
  it('signs in, notifies, keeps history, and resumes after a restart without repeating itself', async () => {
    const s = await server();
    const dataDir = await tmp();
    const credentials = new MemoryCredentialStore();
    const first = await desktop(dataDir, { credentials });
    const token = await s.token({ user: 'alice', scope: 'subscribe' });
    expect(await first.controller.signIn({ serverUrl: s.url, token })).toEqual({ ok: true, user: 'alice' });
    expect(await credentials.get(s.url)).toBe(token);
    await live(first);
    const a = await s.publish(s.adminToken, {
      user: 'alice',
      title: 'disk full',
      priority: 4,
      url: 'https://x.test/a',
    });
    await expect.poll(() => first.notifier.shown.length, { timeout: 5_000 }).toBe(1);
    expect(first.notifier.shown[0]).toMatchObject({
      kind: 'alarm',
      title: 'disk full',
      urgency: 'normal',
      alarmIds: [a.id],
    });
    expect(first.controller.getHistory()).toMatchObject([{ kind: 'alarm', alarm: { id: a.id } }]);

    await first.controller.openAlarm(a.id);
    expect(first.opened).toEqual(['https://x.test/a']);
    await first.controller.stop();

    // Away: three alarms arrive; the next start replays them once, as one batch.
    for (let i = 0; i < 3; i++) await s.publish(s.adminToken, { user: 'alice', title: `while away ${i}` });
    const second = await desktop(dataDir, { credentials });
    await live(second);
    await expect.poll(() => second.controller.getHistory().length, { timeout: 5_000 }).toBe(4);
    await expect.poll(() => second.notifier.shown.length, { timeout: 5_000 }).toBe(3);
    expect(second.notifier.shown.map((t) => t.title).sort()).toEqual([
      'while away 0',
      'while away 1',
      'while away 2',
    ]);
    await expect.poll(() => second.controller.getState().server?.user).toBe('alice');
    expect(second.controller.getState().server?.url.replace(/\/$/, '')).toBe(s.url);
  });

  it('pauses notifications (alarms still reach history); priority 5 pierces the pause', async () => {
    const s = await server();
    const h = await desktop(await tmp());
    await h.controller.signIn({
      serverUrl: s.url,
      token: await s.token({ user: 'bob', scope: 'subscribe' }),
    });
    await live(h);
    await h.controller.pause(Date.now() + 3_600_000);
    expect(h.controller.getState().pausedUntil).toBeGreaterThan(Date.now());
    await s.publish(s.adminToken, { user: 'bob', title: 'quiet', priority: 3 });
    const urgent = await s.publish(s.adminToken, { user: 'bob', title: 'fire', priority: 5 });
    await expect.poll(() => h.controller.getHistory().length, { timeout: 5_000 }).toBe(2);
    await expect.poll(() => h.notifier.shown.length, { timeout: 5_000 }).toBe(1);
    expect(h.notifier.shown[0]).toMatchObject({ title: 'fire', urgency: 'critical', alarmIds: [urgent.id] });

    await h.controller.updateSettings({ urgentPiercesPause: false });
    await s.publish(s.adminToken, { user: 'bob', title: 'fire again', priority: 5 });
    await expect.poll(() => h.controller.getHistory().length, { timeout: 5_000 }).toBe(3);
    await new Promise((r) => setTimeout(r, 600)); // past the burst window
    expect(h.notifier.shown).toHaveLength(1);

    await h.controller.pause(null);
    await s.publish(s.adminToken, { user: 'bob', title: 'back', priority: 3 });
    await expect.poll(() => h.notifier.shown.length, { timeout: 5_000 }).toBe(2);
  });

  it('opens only web links; anything else shows the history window', async () => {
    const s = await server();
    const h = await desktop(await tmp());
    await h.controller.signIn({
      serverUrl: s.url,
      token: await s.token({ user: 'carol', scope: 'subscribe' }),
    });
    await live(h);
    const plain = await s.publish(s.adminToken, { user: 'carol', title: 'no link' });
    await expect.poll(() => h.controller.getHistory().length, { timeout: 5_000 }).toBe(1);
    await h.controller.openAlarm(plain.id);
    await h.controller.openAlarm('999999');
    await h.controller.openToast({
      kind: 'summary',
      title: '3 more',
      body: '',
      urgency: 'normal',
      sound: 'none',
      alarmIds: [],
    });
    expect(h.opened).toEqual([]);
    expect(h.historyShown).toBe(3);
  });

  it('announces the end of a pause, so the tray stops showing "paused"', async () => {
    const clock = new ManualClock(new Date(2026, 10, 30, 22, 0).getTime());
    const h = await desktop(await tmp(), { clock });
    // Signed in (a server set), so the icon shows the pause rather than "sign in".
    const icons: string[] = [];
    h.controller.on('state', (s) =>
      icons.push(trayIcon({ ...s, server: { url: 'https://alarms.example.com', user: 'a' } }, clock.now())),
    );
    await h.controller.pause(clock.now() + 3_600_000);
    expect(h.controller.getState().pausedUntil).toBe(clock.now() + 3_600_000);
    expect(icons.at(-1)).toBe('paused');
    const before = icons.length;
    clock.advance(3_600_000);
    expect(icons.length).toBe(before + 1);
    expect(h.controller.getState().pausedUntil).toBeNull();
    expect(icons.at(-1)).not.toBe('paused');
    // Resuming by hand cancels the timer: nothing fires later.
    await h.controller.pause(clock.now() + 60_000);
    await h.controller.pause(null);
    const after = icons.length;
    clock.advance(120_000);
    expect(icons.length).toBe(after);
  });

  it('persists settings and validates them', async () => {
    const dataDir = await tmp();
    const h = await desktop(dataDir);
    const announced: unknown[] = [];
    h.controller.on('settings', (s) => announced.push(s.selfHosted));
    expect((await h.controller.updateSettings({ maxToasts: 7 })).maxToasts).toBe(7);
    // A tray toggle, then a window's port change: each patch changes only its own field.
    await h.controller.updateSettings({ selfHosted: { lan: true } });
    await h.controller.updateSettings({ selfHosted: { port: 9191 } });
    expect(h.controller.getSettings().selfHosted).toMatchObject({ lan: true, port: 9191 });
    expect(announced).toHaveLength(3);
    await expect(h.controller.updateSettings({ minPriority: 9 })).rejects.toThrow();
    await h.controller.stop();
    const again = await desktop(dataDir);
    expect(again.controller.getSettings().maxToasts).toBe(7);
  });
});

describe('desktop controller: self-hosted mode', () => {
  it('runs the bundled server on first launch, signs itself in, and restarts the server after a crash', async () => {
    const children: ServerChild[] = [];
    const dataDir = await tmp();
    const credentials = new MemoryCredentialStore();
    const probe = await startTestServer(); // only to find a free port
    const port = Number(new URL(probe.url).port);
    await probe.dispose();
    const h = await desktop(dataDir, { credentials, launchServer: forkServer(children) });
    // First launch, no server configured: self-hosted mode is on by default (here moved off port 8080).
    expect(h.controller.getSettings().selfHosted).toEqual({ enabled: true, port: 8080, lan: false });
    await h.controller.updateSettings({ selfHosted: { enabled: true, port, lan: false } });
    await live(h);
    const local = `http://127.0.0.1:${port}`;
    expect(h.controller.getState().server?.url).toBe(local);
    expect(h.controller.getState().selfHosted).toMatchObject({ enabled: true, status: 'running' });
    expect(await credentials.get(local)).toMatch(/^tcs_/);

    // The publish example works, from "a script on this computer".
    await expect.poll(() => h.controller.getPublishExample(), { timeout: 5_000 }).not.toBeNull();
    const example = h.controller.getPublishExample();
    expect(example?.curl).toContain(`${local}/backups`);
    const response = await fetch(`${local}/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${example?.token}`, title: 'nightly' },
      body: 'Backup failed',
    });
    expect(response.status).toBe(200);
    await expect.poll(() => h.notifier.shown.length, { timeout: 5_000 }).toBe(1);

    // Crash: restarted with backoff, shown meanwhile, and the agent comes back by itself.
    const launched = children.length;
    // Recorded, not polled: with full jitter the restart may come within milliseconds.
    const seen: SelfHostedView[] = [];
    h.controller.on('state', (state) => seen.push(state.selfHosted));
    (children.at(-1) as ServerChild & { sigkill(): void }).sigkill();
    const failedAt = () => seen.findIndex((v) => v.status === 'failed');
    // Failed (shown with the restart delay), then running again.
    await expect
      .poll(() => failedAt() !== -1 && seen.slice(failedAt()).some((v) => v.status === 'running'), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(seen[failedAt()]?.detail).toMatch(/restarting in \d+ s/);
    await live(h);
    expect(children.length).toBe(launched + 1);

    const old = example?.token;
    const regenerated = await h.controller.regeneratePublishToken();
    expect(regenerated?.token).not.toBe(old);
    const rejected = await fetch(`${local}/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${old}` },
      body: 'x',
    });
    expect(rejected.status).toBe(401);

    await h.controller.updateSettings({ selfHosted: { enabled: false, port, lan: false } });
    expect(h.controller.getState().selfHosted.status).toBe('off');
  }, 40_000);

  it('moves off a port another program holds, says so, and remembers the new port', async () => {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0, exclusive: true }, r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const taken = (blocker.address() as AddressInfo).port;
    const dataDir = await tmp();
    const h = await desktop(dataDir, { launchServer: forkServer([]) });
    await h.controller.updateSettings({ selfHosted: { port: taken } });
    await live(h);
    const moved = h.controller.getSettings().selfHosted.port;
    expect(moved).not.toBe(taken);
    expect(h.controller.getState().server?.url).toBe(`http://127.0.0.1:${moved}`);
    expect(h.controller.getState().selfHosted).toMatchObject({ status: 'running' });
    expect(h.controller.getState().selfHosted.detail).toBe(
      `port ${taken} is in use by another program; using port ${moved} instead (saved)`,
    );
    await h.controller.stop();
    // The next start keeps the remembered port (free now), with nothing to explain.
    const again = await desktop(dataDir, { launchServer: forkServer([]) });
    await live(again);
    expect(again.controller.getState().server?.url).toBe(`http://127.0.0.1:${moved}`);
    expect(again.controller.getState().selfHosted.detail).toBeNull();
  }, 40_000);
});
