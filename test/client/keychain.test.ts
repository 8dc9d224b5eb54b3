import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  busEnv,
  type Keyring,
  missingKeychain,
  type PrivateBus,
  startKeyring,
  startPrivateBus,
} from '../helpers/client-dbus.ts';

/**
 * keytar against a real Secret Service (gnome-keyring on a private session bus), run in a child
 * process because libsecret binds to the session bus of the process that first uses it.
 */

const CHILD = fileURLToPath(new URL('../helpers/client-keytar-child.ts', import.meta.url));
const run = promisify(execFile);

type Result = { ok: unknown } | { error: { name: string; code?: string; message: string } };

async function keytarOps(env: NodeJS.ProcessEnv, ops: unknown[]): Promise<Result[]> {
  const { stdout } = await run(process.execPath, [CHILD, JSON.stringify(ops)], { env, timeout: 20_000 });
  return JSON.parse(stdout) as Result[];
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const skipReason = missingKeychain('keychain tests');

describe.skipIf(skipReason !== null)('credential store on the OS keychain (real Secret Service)', () => {
  let bus: PrivateBus | undefined;
  let keyring: Keyring | undefined;

  afterEach(async () => {
    await keyring?.stop();
    await bus?.stop();
    keyring = undefined;
    bus = undefined;
  });

  it('stores, reads and deletes a token under service "Tocsin", account = the server origin', async () => {
    bus = await startPrivateBus();
    keyring = await startKeyring(bus, { unlock: true });
    const token = 'tcs_0123456789ab_secret-value-that-must-not-hit-a-plain-file';
    const results = await keytarOps(busEnv(bus.address), [
      ['get', 'http://127.0.0.1:8080'],
      ['set', 'http://127.0.0.1:8080/some/path/', token],
      ['get', 'http://127.0.0.1:8080'],
      ['find'],
    ]);
    expect(results).toEqual([
      { ok: null },
      { ok: null },
      { ok: token },
      { ok: [{ account: 'http://127.0.0.1:8080', password: token }] },
    ]);

    // A fresh process (think: the next app start) finds it; the keyring file holds it only encrypted.
    expect(await keytarOps(busEnv(bus.address), [['get', 'http://127.0.0.1:8080/']])).toEqual([
      { ok: token },
    ]);
    for (const file of await filesUnder(keyring.dataDir)) {
      expect((await readFile(file)).includes(token), file).toBe(false);
    }

    expect(
      await keytarOps(busEnv(bus.address), [
        ['delete', 'http://127.0.0.1:8080'],
        ['delete', 'http://127.0.0.1:8080'],
        ['get', 'http://127.0.0.1:8080'],
      ]),
    ).toEqual([{ ok: true }, { ok: false }, { ok: null }]);
  });

  it('says plainly that no keychain is reachable when there is no session bus', async () => {
    const [result] = await keytarOps(busEnv('unix:path=/nonexistent/tocsin-test-bus'), [
      ['get', 'http://x.test'],
    ]);
    expect(result).toMatchObject({ error: { name: 'CredentialError', code: 'keychain-unavailable' } });
    expect((result as { error: { message: string } }).error.message).toMatch(/OS keychain is not available/);
  });

  it('says plainly that no keychain is reachable when the bus has no Secret Service', async () => {
    bus = await startPrivateBus();
    const [result] = await keytarOps(busEnv(bus.address), [['set', 'http://x.test', 'tok']]);
    expect(result).toMatchObject({ error: { name: 'CredentialError', code: 'keychain-unavailable' } });
    expect((result as { error: { message: string } }).error.message).toMatch(/Secret Service/);
  });

  it('reports a locked keychain as locked', async () => {
    // A login keyring that exists (created unlocked once) but is locked now: a daemon started without
    // the password, and no prompt anyone could answer.
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-locked-'));
    try {
      bus = await startPrivateBus();
      keyring = await startKeyring(bus, { unlock: true, dataDir: dir });
      expect(await keytarOps(busEnv(bus.address), [['set', 'http://x.test', 'tok']])).toEqual([{ ok: null }]);
      await keyring.stop();
      keyring = await startKeyring(bus, { unlock: false, dataDir: dir });
      const [result] = await keytarOps(busEnv(bus.address), [['set', 'http://y.test', 'tok']]);
      expect(result).toMatchObject({ error: { name: 'CredentialError', code: 'keychain-locked' } });
      expect((result as { error: { message: string } }).error.message).toMatch(/locked/);
    } finally {
      await keyring?.stop();
      keyring = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
