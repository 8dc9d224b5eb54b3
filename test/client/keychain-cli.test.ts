import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialError, KeytarCredentialStore } from '../../client/credentials.ts';
import { runTocsin } from '../helpers/client-cli.ts';
import {
  busEnv,
  type Keyring,
  missingKeychain,
  type PrivateBus,
  startKeyring,
  startPrivateBus,
} from '../helpers/client-dbus.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * The keychain's states told apart, end to end through `tocsin`: locked (4), unreachable (4),
 * nothing stored (3 for listen, 0 for logout), deleted. A real gnome-keyring on a private bus is
 * locked by restarting it without the password, exactly as a login keyring is after a reboot.
 */

describe('keytar absent (an optional dependency that did not build)', () => {
  it('is its own error code, and says what to install', async () => {
    const store = new KeytarCredentialStore({
      load: () => Promise.reject(new Error("Cannot find package 'keytar'")),
      countLocked: async () => null,
    });
    const error = await store.get('http://x.test').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ code: 'keychain-module-missing' });
    expect((error as Error).message).toMatch(/npm rebuild keytar/);
    if (process.platform === 'linux') expect((error as Error).message).toMatch(/libsecret-1-dev/);
  });
});

const skipReason = missingKeychain('keychain CLI tests');

describe.skipIf(skipReason !== null)('tocsin with a locked, an unlocked and no keychain', () => {
  let srv: TestServer;
  let subToken: string;
  let home: string;
  let bus: PrivateBus | undefined;
  let keyring: Keyring | undefined;

  beforeAll(async () => {
    srv = await startTestServer();
    subToken = await srv.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
  });
  afterAll(async () => {
    await srv.dispose();
  });
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'tocsin-kc-cli-'));
  });
  afterEach(async () => {
    await keyring?.stop();
    await bus?.stop();
    keyring = undefined;
    bus = undefined;
    await rm(home, { recursive: true, force: true });
  });

  const env = () => busEnv(bus?.address ?? '', { HOME: home, TOCSIN_AGENT_STATE_DIR: join(home, 'state') });

  it('locked: listen and logout exit 4 and say so; unlocked again: logout deletes, then finds nothing', async () => {
    const keyringDir = join(home, 'keyring');
    bus = await startPrivateBus();
    keyring = await startKeyring(bus, { unlock: true, dataDir: keyringDir });
    expect(await runTocsin(['login', srv.url], env(), `${subToken}\n`)).toMatchObject({ code: 0 });

    await keyring.stop();
    keyring = await startKeyring(bus, { unlock: false, dataDir: keyringDir });
    const listen = await runTocsin(['listen', srv.url], env());
    expect(listen.code).toBe(4);
    expect(listen.stderr).toMatch(/^tocsin: your keychain is locked: unlock it and retry/);
    const lockedLogout = await runTocsin(['logout', srv.url], env());
    expect(lockedLogout.code).toBe(4);
    expect(lockedLogout.stderr).toMatch(/your keychain is locked: unlock it and retry; .* still stored/);

    // Unlocked (the daemon restarted with the password): the token survived the failed logout.
    await keyring.stop();
    keyring = await startKeyring(bus, { unlock: true, dataDir: keyringDir });
    const logout = await runTocsin(['logout', srv.url], env());
    expect(logout).toMatchObject({ code: 0, stderr: '' });
    expect(logout.stdout).toMatch(/^Signed out of http:\/\/127\.0\.0\.1:\d+: the token was deleted/);
    const again = await runTocsin(['logout', srv.url], env());
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(/^No token was stored for http:\/\/127\.0\.0\.1:\d+; nothing to delete/);
    const notSignedIn = await runTocsin(['listen', srv.url], env());
    expect(notSignedIn.code).toBe(3);
    expect(notSignedIn.stderr).toMatch(/not signed in/);
  });

  it('a locked keyring that holds no token for this server is "not signed in" (exit 3)', async () => {
    const keyringDir = join(home, 'keyring');
    bus = await startPrivateBus();
    keyring = await startKeyring(bus, { unlock: true, dataDir: keyringDir });
    // A token for another origin: the locked keyring is not empty, it just has nothing for this one.
    const other = srv.url.replace('127.0.0.1', 'localhost');
    expect(await runTocsin(['login', other], env(), `${subToken}\n`)).toMatchObject({ code: 0 });
    await keyring.stop();
    keyring = await startKeyring(bus, { unlock: false, dataDir: keyringDir });
    const listen = await runTocsin(['listen', srv.url], env());
    expect(listen.code).toBe(3);
  });

  it('no Secret Service on the bus: logout says it could not reach the keychain (exit 4)', async () => {
    bus = await startPrivateBus();
    const logout = await runTocsin(['logout', srv.url], env());
    expect(logout.code).toBe(4);
    expect(logout.stderr).toMatch(/could not reach the OS keychain, so nothing was deleted/);
    const listen = await runTocsin(['listen', srv.url], env());
    expect(listen.code).toBe(4);
    expect(listen.stderr).toMatch(/OS keychain is not available.*TOCSIN_TOKEN/s);
  });
});
